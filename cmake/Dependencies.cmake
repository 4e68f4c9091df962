# Every dependency comes from Debian 12 packages (see scripts/install-deps).
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)             # CMake's module; Debian has no protobuf-config.cmake
find_package(gRPC CONFIG REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(glog CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(libwebsockets CONFIG REQUIRED) # link websockets_shared only
find_package(tomlplusplus CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
if(CALLSD_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
if(CALLSD_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
