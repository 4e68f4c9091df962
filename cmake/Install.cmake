# Installation (an FHS layout through GNUInstallDirs) and packaging (CPack,
# `cpack -G DEB`). Included from the top-level CMakeLists.txt after every
# component, so that the targets exist.
#
#   cmake --install BUILD --prefix /usr        (add DESTDIR=... to stage it)
#
# lays out, for the prefix /usr:
#   /usr/bin/callsctl, /usr/bin/calls-server       (their own CMakeLists)
#   /usr/libexec/callsd                            (daemon/CMakeLists.txt)
#   /etc/callsd/callsd.conf                        (/etc even for the prefix /usr)
#   /usr/lib/systemd/system/callsd{,@}.{socket,service}, /usr/lib/systemd/user/callsd.*
#   /usr/lib/sysusers.d/callsd.conf, /usr/lib/tmpfiles.d/callsd.conf
#   /usr/include/callsd/client.h, /usr/include/callsd/v1/callsd{,.grpc}.pb.h
#   /usr/lib/libcallsclient.a, /usr/lib/libcallsd_proto.a
#   /usr/lib/cmake/CallsClient/ (find_package(CallsClient)), /usr/lib/pkgconfig/callsclient.pc
#   /usr/share/callsd/proto/{callsd,wire}/v1/*.proto
#   /usr/share/bash-completion/completions/callsctl, /usr/share/man/man{1,8}/
#   /usr/share/doc/callsd/ (README, examples/calls-server.conf, examples/python/)
#
# Paths written into installed files (ExecStart= of the units, prefix= of the
# .pc file) depend on the prefix, which `cmake --install --prefix` and cpack
# may change after configuring: those files are configured at install time
# (cmake/InstallConfigured.cmake), from the templates in systemd/ and cmake/.

include(CMakePackageConfigHelpers)

# --- Where systemd looks for units, sysusers.d and tmpfiles.d ----------------
# From systemd's pkg-config file when it is there (with our prefix), else the
# usual places; kept relative to the prefix when inside it, so that a prefix
# given at install time still applies. Absolute values are used as they are.
function(callsd_systemd_dir out_var pc_variable fallback description)
  set(dir "${fallback}")
  if(PKG_CONFIG_FOUND)
    execute_process(
      COMMAND "${PKG_CONFIG_EXECUTABLE}" "--define-variable=prefix=${CMAKE_INSTALL_PREFIX}"
              "--define-variable=root_prefix=${CMAKE_INSTALL_PREFIX}"
              "--variable=${pc_variable}" systemd
      OUTPUT_VARIABLE from_pc RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(rc EQUAL 0 AND from_pc)
      cmake_path(IS_PREFIX CMAKE_INSTALL_PREFIX "${from_pc}" NORMALIZE inside)
      if(inside)
        file(RELATIVE_PATH dir "${CMAKE_INSTALL_PREFIX}" "${from_pc}")
      else()
        set(dir "${from_pc}")
      endif()
    endif()
  endif()
  set(${out_var} "${dir}" CACHE STRING "${description} (relative to the prefix, or absolute)")
endfunction()

callsd_systemd_dir(CALLSD_INSTALL_SYSTEMD_SYSTEM_UNIT_DIR systemdsystemunitdir
                   lib/systemd/system "systemd system units")
callsd_systemd_dir(CALLSD_INSTALL_SYSTEMD_USER_UNIT_DIR systemduserunitdir
                   lib/systemd/user "systemd user units")
callsd_systemd_dir(CALLSD_INSTALL_SYSUSERS_DIR sysusersdir lib/sysusers.d "sysusers.d files")
callsd_systemd_dir(CALLSD_INSTALL_TMPFILES_DIR tmpfilesdir lib/tmpfiles.d "tmpfiles.d files")
set(CALLSD_INSTALL_BASH_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
    CACHE STRING "bash completion scripts (relative to the prefix, or absolute)")
set(CALLSD_INSTALL_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/CallsClient")

# --- Files whose content names installed paths: configured at install time --
install(CODE "
  set(CALLSD_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(CALLSD_STAGING_DIR \"${PROJECT_BINARY_DIR}/install-configured\")
  set(CALLSD_VERSION \"${PROJECT_VERSION}\")
  set(CALLSD_REL_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(CALLSD_REL_LIBEXECDIR \"${CMAKE_INSTALL_LIBEXECDIR}\")
  set(CALLSD_REL_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
  set(CALLSD_REL_LIBDIR \"${CMAKE_INSTALL_LIBDIR}\")
  set(CALLSD_REL_INCLUDEDIR \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(CALLSD_REL_SYSTEM_UNIT_DIR \"${CALLSD_INSTALL_SYSTEMD_SYSTEM_UNIT_DIR}\")
  set(CALLSD_REL_USER_UNIT_DIR \"${CALLSD_INSTALL_SYSTEMD_USER_UNIT_DIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/InstallConfigured.cmake\")
")

# --- sysusers.d, tmpfiles.d (no paths inside: installed as they are) --------
install(FILES systemd/callsd.sysusers DESTINATION "${CALLSD_INSTALL_SYSUSERS_DIR}"
        RENAME callsd.conf)
install(FILES systemd/callsd.tmpfiles DESTINATION "${CALLSD_INSTALL_TMPFILES_DIR}"
        RENAME callsd.conf)

# --- The client library: libcallsclient + the generated API it exposes -------
# Its public header includes callsd/v1/callsd.pb.h, so callsd_proto (the
# generated code) is installed with it. Their include folders are build-tree
# paths: the installed targets use <prefix>/include instead.
foreach(target IN ITEMS callsclient callsd_proto)
  get_target_property(build_includes ${target} INTERFACE_INCLUDE_DIRECTORIES)
  set(wrapped "")
  foreach(dir IN LISTS build_includes)
    if(dir MATCHES "^\\$<")  # already a generator expression
      list(APPEND wrapped "${dir}")
    else()
      list(APPEND wrapped "$<BUILD_INTERFACE:${dir}>")
    endif()
  endforeach()
  list(APPEND wrapped "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${wrapped}")
endforeach()
set_property(TARGET callsclient PROPERTY EXPORT_NAME callsclient)
set_property(TARGET callsd_proto PROPERTY EXPORT_NAME callsd_proto)

install(TARGETS callsclient callsd_proto EXPORT CallsClientTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES client-lib/include/callsd/client.h
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/callsd")
install(FILES "${PROJECT_BINARY_DIR}/proto/callsd/v1/callsd.pb.h"
              "${PROJECT_BINARY_DIR}/proto/callsd/v1/callsd.grpc.pb.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/callsd/v1")
install(EXPORT CallsClientTargets NAMESPACE CallsClient::
        FILE CallsClientTargets.cmake DESTINATION "${CALLSD_INSTALL_CMAKE_DIR}")
configure_package_config_file(cmake/CallsClientConfig.cmake.in
  "${PROJECT_BINARY_DIR}/CallsClientConfig.cmake"
  INSTALL_DESTINATION "${CALLSD_INSTALL_CMAKE_DIR}")
# 0.x: minor versions may break the API.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/CallsClientConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/CallsClientConfig.cmake"
              "${PROJECT_BINARY_DIR}/CallsClientConfigVersion.cmake"
        DESTINATION "${CALLSD_INSTALL_CMAKE_DIR}")

# --- The API contract, completion, manuals, documentation -------------------
install(FILES proto/callsd/v1/callsd.proto DESTINATION "${CMAKE_INSTALL_DATADIR}/callsd/proto/callsd/v1")
install(FILES proto/wire/v1/wire.proto DESTINATION "${CMAKE_INSTALL_DATADIR}/callsd/proto/wire/v1")
install(FILES completion/callsctl.bash DESTINATION "${CALLSD_INSTALL_BASH_COMPLETION_DIR}"
        RENAME callsctl)
install(FILES man/callsctl.1 DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES man/callsd.8 man/calls-server.8 DESTINATION "${CMAKE_INSTALL_MANDIR}/man8")
install(FILES README.md DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(FILES config/calls-server.conf DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples")
install(FILES examples/python/README.md examples/python/callsd_client.py
              examples/python/example.py
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples/python")
install(FILES examples/python/proto/grpc_health/v1/health.proto
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples/python/proto/grpc_health/v1")

# --- cpack -G DEB ---------------------------------------------------------
# One package, "callsd": the programs, the units, the client library and its
# headers. The prefix /usr with DESTDIR staging, so that the install-time
# configured files name /usr and /etc paths.
set(CPACK_PACKAGE_NAME callsd)
set(CPACK_PACKAGE_VENDOR "callsd")
set(CPACK_PACKAGE_CONTACT "callsd maintainers <callsd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Calls session daemon: one authenticated Calls identity for every local app")
set(CPACK_PACKAGE_DESCRIPTION
    "callsd holds the user's authenticated session with a calls server, persists the user ID
and push device tokens, receives incoming calls by push, and lets local apps accept,
decline, dial and end calls through a gRPC API on a Unix socket. Includes callsctl
(the command-line client), calls-server (the reference calls backend), the systemd
units and the C++ client library (find_package(CallsClient), pkg-config callsclient).")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/callsd")
# dpkg-shlibdeps (dpkg-dev) computes the runtime libraries from the binaries:
# libgrpc++1.51, libprotobuf32, libwebsockets17, libgoogle-glog0v6,
# libsqlite3-0, libsystemd0, libssl3, libabsl20220623, ... Without it, the
# Debian 12 names are listed by hand.
find_program(CALLSD_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(CALLSD_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libgrpc++1.51, libgrpc29, libprotobuf32, libwebsockets17, \
libgoogle-glog0v6, libsqlite3-0, libsystemd0, libssl3, libabsl20220623")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/cmake/debian/postinst"
    "${PROJECT_SOURCE_DIR}/cmake/debian/prerm"
    "${PROJECT_SOURCE_DIR}/cmake/debian/postrm"
    "${PROJECT_SOURCE_DIR}/cmake/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# `make package_source` / `cpack --config CPackSourceConfig.cmake`: the sources only.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/run/" "__pycache__")
include(CPack)
