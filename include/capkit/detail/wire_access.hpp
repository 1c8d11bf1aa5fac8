// SPDX-License-Identifier: MIT
/// @file Defines capkit::wire::access, the customisation point through which the wire codec
/// reaches the fields of classes that are not Hana structs.
#pragma once

#include <tuple>
#include <type_traits>

namespace capkit::wire {

/// The codec's key to a class's fields. A class that is not a Hana struct (private state, or an
/// aggregate with default member initialisers) opts in with one static member template that
/// returns references to its fields, in wire order, as const as `self` is:
///
///     template <class Self>
///     static constexpr auto wire_fields(Self& self) noexcept { return std::tie(self.a_, self.b_);
///     }
///
/// A class with private state declares it private and befriends `capkit::wire::access`, so only
/// the codec can write its fields; an aggregate may leave it public. The codec then encodes the
/// fields in order and decodes them into a default constructed object, and checks the invariants
/// the class relies on (capkit::wire::invariant) before handing the object out.
struct access {
    /// The fields of `self`, as wire_fields returns them.
    template <class T>
    static constexpr auto fields(T& self) noexcept
        -> decltype(std::remove_const_t<T>::wire_fields(self)) {
        return std::remove_const_t<T>::wire_fields(self);
    }
};

/// True for classes that expose their fields through a wire_fields member.
template <class T>
concept has_wire_fields = requires(T& t) {
    access::fields(t);
};

}  // namespace capkit::wire
