// SPDX-License-Identifier: MIT
/// @file Defines nothing of its own: includes every public capkit header but TCP and TLS.
#pragma once

#include <capkit/error.hpp>
#include <capkit/node_id.hpp>

#include <capkit/policy/category.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/describe.hpp>
#include <capkit/policy/level.hpp>
#include <capkit/policy/placement.hpp>
#include <capkit/policy/quorum.hpp>

#include <capkit/version/causal_order.hpp>
#include <capkit/version/hlc.hpp>

#include <capkit/resolve/crdt_merge.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/resolve/resolver.hpp>

#include <capkit/crdt/crdt.hpp>

#include <capkit/storage/memory.hpp>
#include <capkit/storage/storage.hpp>
