# Compiles through ccache where the developers and CI choose so (SONIC_CCACHE, on in the presets;
# scripts/bootstrap.sh installs ccache). The whole build is the slow part of `make test` on two
# cores, and CI builds a fresh clone in another folder on the developer's machine: paths under the
# source tree are hashed relative to it (CCACHE_BASEDIR) and the working directory is left out of
# the hash (CCACHE_NOHASHDIR), so a clone elsewhere reuses the objects of identical sources. On a
# machine without a cache it only costs a cache fill.
option(SONIC_CCACHE "Compile through ccache when it is installed" OFF)

if(SONIC_CCACHE)
  find_program(SONIC_CCACHE_PROGRAM ccache)
  if(SONIC_CCACHE_PROGRAM)
    set(sonic_compiler_launcher ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}
      CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=20G ${SONIC_CCACHE_PROGRAM})
    set(CMAKE_C_COMPILER_LAUNCHER ${sonic_compiler_launcher})
    set(CMAKE_CXX_COMPILER_LAUNCHER ${sonic_compiler_launcher})
    set(CMAKE_CUDA_COMPILER_LAUNCHER ${sonic_compiler_launcher})
  else()
    message(STATUS "SONIC_CCACHE: ccache not found, compiling without it")
  endif()
endif()
