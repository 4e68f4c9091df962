# Runs at install time (from an install(CODE) in cmake/Install.cmake), where
# CMAKE_INSTALL_PREFIX is the prefix actually installed to (`cmake --install
# --prefix`, cpack's /usr), and DESTDIR, when set, is prepended by
# file(INSTALL). Installs the files whose content names installed paths:
#   - the systemd units (ExecStart=, the config file) from systemd/*.in;
#   - /etc/callsd/callsd.conf (the sysconf folder: /etc for the prefixes / and /usr);
#   - callsclient.pc (prefix=).
# Variables set by the caller: CALLSD_SOURCE_DIR, CALLSD_STAGING_DIR,
# CALLSD_VERSION and the CALLSD_REL_* folders (GNUInstallDirs values; relative
# to the prefix or absolute).

function(callsd_full_dir out rel)
  if(IS_ABSOLUTE "${rel}")
    set(${out} "${rel}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${rel}" PARENT_SCOPE)
  endif()
endfunction()

set(prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "(.)/+$" "\\1" prefix "${prefix}")

# GNUInstallDirs' rule for CMAKE_INSTALL_FULL_SYSCONFDIR, applied to the
# install-time prefix: /etc for / and /usr, /etc/opt/... for /opt/...
if(IS_ABSOLUTE "${CALLSD_REL_SYSCONFDIR}")
  set(sysconfdir "${CALLSD_REL_SYSCONFDIR}")
elseif(prefix STREQUAL "/" OR prefix STREQUAL "/usr")
  set(sysconfdir "/${CALLSD_REL_SYSCONFDIR}")
elseif(prefix MATCHES "^/opt/")
  set(sysconfdir "/${CALLSD_REL_SYSCONFDIR}${prefix}")
else()
  set(sysconfdir "${prefix}/${CALLSD_REL_SYSCONFDIR}")
endif()

callsd_full_dir(bindir "${CALLSD_REL_BINDIR}")
callsd_full_dir(libexecdir "${CALLSD_REL_LIBEXECDIR}")
callsd_full_dir(libdir "${CALLSD_REL_LIBDIR}")
callsd_full_dir(includedir "${CALLSD_REL_INCLUDEDIR}")
callsd_full_dir(system_unit_dir "${CALLSD_REL_SYSTEM_UNIT_DIR}")
callsd_full_dir(user_unit_dir "${CALLSD_REL_USER_UNIT_DIR}")

# The placeholders of the templates.
set(CALLSD_BINDIR "${bindir}")
set(CALLSD_LIBEXECDIR "${libexecdir}")
set(CALLSD_CONFDIR "${sysconfdir}/callsd")
set(CALLSD_PREFIX "${prefix}")
# callsclient.pc: libdir and includedir relative to ${prefix} when inside it.
foreach(kind IN ITEMS libdir includedir)
  set(value "${${kind}}")
  cmake_path(IS_PREFIX prefix "${value}" NORMALIZE inside)
  if(inside AND NOT prefix STREQUAL "/")
    file(RELATIVE_PATH rel "${prefix}" "${value}")
    set(value "\${prefix}/${rel}")
  endif()
  string(TOUPPER "${kind}" upper)
  set(CALLSD_PC_${upper} "${value}")
endforeach()

# One staging folder per destination, so that concurrent installs (tests)
# do not write each other's files.
string(MD5 key "$ENV{DESTDIR}|${prefix}")
set(stage "${CALLSD_STAGING_DIR}/${key}")

function(callsd_install_configured template destination name)
  configure_file("${CALLSD_SOURCE_DIR}/${template}" "${stage}/${name}" @ONLY)
  file(INSTALL DESTINATION "${destination}" TYPE FILE
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
       FILES "${stage}/${name}")
endfunction()

callsd_install_configured(systemd/callsd.socket.in "${system_unit_dir}" callsd.socket)
callsd_install_configured(systemd/callsd.service.in "${system_unit_dir}" callsd.service)
callsd_install_configured(systemd/callsd@.socket.in "${system_unit_dir}" callsd@.socket)
callsd_install_configured(systemd/callsd@.service.in "${system_unit_dir}" callsd@.service)
set(stage "${stage}/user")
callsd_install_configured(systemd/user/callsd.socket.in "${user_unit_dir}" callsd.socket)
callsd_install_configured(systemd/user/callsd.service.in "${user_unit_dir}" callsd.service)
set(stage "${CALLSD_STAGING_DIR}/${key}")
callsd_install_configured(cmake/callsclient.pc.in "${libdir}/pkgconfig" callsclient.pc)

# The daemon's config: the documented defaults, not a template.
file(INSTALL DESTINATION "${sysconfdir}/callsd" TYPE FILE
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
     FILES "${CALLSD_SOURCE_DIR}/config/callsd.conf")
