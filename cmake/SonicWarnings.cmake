# Warnings on our own code only: generated protobuf code and third-party headers (included as
# SYSTEM) are exempt. Warnings are errors where the developers and CI choose so
# (SONIC_WARNINGS_AS_ERRORS, on in the presets): a packager's or a site's plain build with
# another compiler or optimization level is not broken by a new warning.
option(SONIC_WARNINGS_AS_ERRORS "Treat compiler warnings on the project's code as errors" OFF)

function(sonic_target_warnings target)
  set(as_errors)
  if(SONIC_WARNINGS_AS_ERRORS)
    set(as_errors -Werror)
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra ${as_errors} -Wno-unused-parameter)
endfunction()
