# Finds librocksdb and its headers and makes the imported target capkit::rocksdb_library, which
# capkit::rocksdb links. Debian's librocksdb-dev ships no CMake package, so this looks for the
# files themselves; capkit's build and its installed package (capkit-config.cmake) both run it.
if(NOT TARGET capkit::rocksdb_library)
  find_path(CAPKIT_ROCKSDB_INCLUDE_DIR rocksdb/db.h)
  find_library(CAPKIT_ROCKSDB_LIBRARY rocksdb)
  if(CAPKIT_ROCKSDB_INCLUDE_DIR AND CAPKIT_ROCKSDB_LIBRARY)
    add_library(capkit::rocksdb_library UNKNOWN IMPORTED GLOBAL)
    set_target_properties(capkit::rocksdb_library PROPERTIES
                          IMPORTED_LOCATION "${CAPKIT_ROCKSDB_LIBRARY}"
                          INTERFACE_INCLUDE_DIRECTORIES "${CAPKIT_ROCKSDB_INCLUDE_DIR}")
  endif()
endif()
