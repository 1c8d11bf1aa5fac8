# Finds xxHash's header and makes the imported target capkit::xxhash, which capkit::capkit links:
# anti-entropy's Merkle trees (capkit/protocol/merkle_tree.hpp, reached from capkit/cluster.hpp)
# hash with it, header-only (XXH_INLINE_ALL), so only xxhash.h is needed (Debian:
# libxxhash-dev). capkit's build and its installed package (capkit-config.cmake) both run this.
if(NOT TARGET capkit::xxhash)
  find_path(CAPKIT_XXHASH_INCLUDE_DIR xxhash.h)
  if(CAPKIT_XXHASH_INCLUDE_DIR)
    add_library(capkit::xxhash INTERFACE IMPORTED GLOBAL)
    set_target_properties(capkit::xxhash PROPERTIES
                          INTERFACE_INCLUDE_DIRECTORIES "${CAPKIT_XXHASH_INCLUDE_DIR}")
  endif()
endif()
