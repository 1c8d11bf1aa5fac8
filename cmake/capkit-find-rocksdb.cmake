# Finds librocksdb and makes the imported target capkit::rocksdb_library, which capkit::rocksdb
# links. RocksDB's own CMake package comes first (Debian's librocksdb-dev installs
# RocksDBConfig.cmake: its shared library, RocksDB::rocksdb-shared); where there is none (a
# build from source installed without it, say), the library and its headers are looked for
# directly. capkit's build and its installed package (capkit-config.cmake) both run this.
if(NOT TARGET capkit::rocksdb_library)
  # RocksDB's package adds its own Find modules to CMAKE_MODULE_PATH: keep them out of the
  # includer's scope.
  set(capkit_saved_module_path "${CMAKE_MODULE_PATH}")
  find_package(RocksDB CONFIG QUIET)
  set(CMAKE_MODULE_PATH "${capkit_saved_module_path}")
  unset(capkit_saved_module_path)
  if(TARGET RocksDB::rocksdb-shared)
    add_library(capkit::rocksdb_library INTERFACE IMPORTED GLOBAL)
    set_target_properties(capkit::rocksdb_library PROPERTIES
                          INTERFACE_LINK_LIBRARIES RocksDB::rocksdb-shared)
  else()
    find_path(CAPKIT_ROCKSDB_INCLUDE_DIR rocksdb/db.h)
    find_library(CAPKIT_ROCKSDB_LIBRARY rocksdb)
    if(CAPKIT_ROCKSDB_INCLUDE_DIR AND CAPKIT_ROCKSDB_LIBRARY)
      add_library(capkit::rocksdb_library UNKNOWN IMPORTED GLOBAL)
      set_target_properties(capkit::rocksdb_library PROPERTIES
                            IMPORTED_LOCATION "${CAPKIT_ROCKSDB_LIBRARY}"
                            INTERFACE_INCLUDE_DIRECTORIES "${CAPKIT_ROCKSDB_INCLUDE_DIR}")
    endif()
  endif()
endif()
