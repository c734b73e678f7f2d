# Install rules and the Debian package (CPack DEB): `cmake --build build --target package`
# writes build/composewatch_<version>_<arch>.deb. Debian's layout: the binary in
# /usr/bin, the unit in /lib/systemd/system, the config (a conffile) in /etc/composewatch,
# docs and examples in /usr/share/doc/composewatch, alert rules and dashboards in
# /usr/share/composewatch.

set(PKG_DOC share/doc/composewatch)

install(TARGETS composewatch RUNTIME DESTINATION bin)
# When stripped for the package (CPACK_STRIP_FILES), also without the sections dh_strip
# removes (lintian: binary-has-unneeded-section).
install(CODE "if(CMAKE_INSTALL_DO_STRIP)
  execute_process(COMMAND \"${CMAKE_OBJCOPY}\" --remove-section=.comment --remove-section=.note
                          \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/bin/composewatch\" COMMAND_ERROR_IS_FATAL ANY)
endif()")
install(FILES systemd/composewatch.service systemd/composewatch.socket DESTINATION /lib/systemd/system)
install(FILES deploy/config.yml DESTINATION /etc/composewatch)
# The unit's EnvironmentFile=: extra flags as ARGS= (a conffile, like the config).
install(FILES deploy/default/composewatch DESTINATION /etc/default)
install(FILES README.md deploy/web.yml.example deploy/deb/copyright DESTINATION ${PKG_DOC})
# With the screenshots the README and docs show (lintian: no empty docs/img/).
install(DIRECTORY docs/ DESTINATION ${PKG_DOC}/docs FILES_MATCHING PATTERN "*.md" PATTERN "*.png")
foreach(dir deploy/prometheus deploy/alertmanager grafana)
  if(EXISTS "${CMAKE_SOURCE_DIR}/${dir}")
    install(DIRECTORY ${dir}/ DESTINATION share/composewatch/${dir})
  endif()
endforeach()

# The man page is the --help of the built binary; the changelog Debian's.
find_program(HELP2MAN help2man)
find_program(GZIP gzip REQUIRED)
set(PKG_GEN "${CMAKE_BINARY_DIR}/package")
if(HELP2MAN)
  add_custom_command(
    OUTPUT "${PKG_GEN}/composewatch.1.gz"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${PKG_GEN}"
    COMMAND ${HELP2MAN} --no-info --section=1
            "--name=Docker and Compose supervision for Prometheus"
            --output=${PKG_GEN}/composewatch.1 $<TARGET_FILE:composewatch>
    COMMAND ${GZIP} -9nf "${PKG_GEN}/composewatch.1"
    DEPENDS composewatch
    VERBATIM)
  add_custom_target(manpage ALL DEPENDS "${PKG_GEN}/composewatch.1.gz")
  install(FILES "${PKG_GEN}/composewatch.1.gz" DESTINATION share/man/man1)
endif()
add_custom_command(
  OUTPUT "${PKG_GEN}/changelog.gz"
  COMMAND ${CMAKE_COMMAND} -E make_directory "${PKG_GEN}"
  COMMAND ${CMAKE_COMMAND} -E copy "${CMAKE_SOURCE_DIR}/deploy/deb/changelog" "${PKG_GEN}/changelog"
  COMMAND ${GZIP} -9nf "${PKG_GEN}/changelog"
  DEPENDS "${CMAKE_SOURCE_DIR}/deploy/deb/changelog"
  VERBATIM)
add_custom_target(debian-changelog ALL DEPENDS "${PKG_GEN}/changelog.gz")
install(FILES "${PKG_GEN}/changelog.gz" DESTINATION ${PKG_DOC})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME composewatch)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Docker and Compose supervision for Prometheus")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "composewatch maintainers <maintainers@users.noreply.r-seed-370bbe28.example>")
# The long description; CPack puts the summary above it and indents each line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "composewatch is a small agent for a host that runs Docker Compose stacks. It
counts every OOM kill, restart, crash exit and health change from the engine's
event stream, reads container memory, CPU, I/O and PIDs from cgroups at scrape
time, compares running services with their compose files, shows where the disk
goes, and can run safe prune policies on a schedule. Prometheus scrapes it.")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, init-system-helpers (>= 1.52)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "docker.io | docker-ce")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_SOURCE_DIR}/deploy/deb/postinst;${CMAKE_SOURCE_DIR}/deploy/deb/prerm;${CMAKE_SOURCE_DIR}/deploy/deb/postrm;${CMAKE_SOURCE_DIR}/deploy/deb/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)
include(CPack)
