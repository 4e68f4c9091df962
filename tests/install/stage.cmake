# The fixture of the install tests: `cmake --install BUILD_DIR --prefix /usr`
# into DESTDIR (emptied first), as a packager does.
#   cmake -DBUILD_DIR=... -DDESTDIR=... -P stage.cmake
file(REMOVE_RECURSE "${DESTDIR}")
file(MAKE_DIRECTORY "${DESTDIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env "DESTDIR=${DESTDIR}"
          "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix /usr
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc}):\n${out}\n${err}")
endif()
message(STATUS "installed into ${DESTDIR} with the prefix /usr")
