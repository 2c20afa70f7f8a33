# Run by the downstream_find_package test (cmake -P): installs the ignis build IGNIS_BUILD_DIR
# into WORK_DIR/prefix, then configures, builds and runs the project in DOWNSTREAM_SOURCE_DIR
# against that prefix only. Fails on the first step that fails.
foreach(var IGNIS_BUILD_DIR DOWNSTREAM_SOURCE_DIR WORK_DIR CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run.cmake: -D ${var}=... is required")
  endif()
endforeach()

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "downstream: ${what} failed (${rc})")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})

set(config_args)
if(IGNIS_CONFIG)
  set(config_args --config ${IGNIS_CONFIG})
endif()
step("install" ${CMAKE_COMMAND} --install ${IGNIS_BUILD_DIR} --prefix ${prefix} ${config_args})
step("configure" ${CMAKE_COMMAND} -S ${DOWNSTREAM_SOURCE_DIR} -B ${build} -G ${GENERATOR}
  -D CMAKE_PREFIX_PATH=${prefix}
  -D CMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -D CMAKE_CXX_COMPILER=${CXX_COMPILER}
  -D CMAKE_BUILD_TYPE=${IGNIS_CONFIG})
step("build" ${CMAKE_COMMAND} --build ${build} ${config_args})

find_program(app NAMES app PATHS ${build} ${build}/${IGNIS_CONFIG} NO_DEFAULT_PATH REQUIRED)
step("run" ${app})
