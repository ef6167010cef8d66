# Warnings are errors on our own code only: generated protobuf code and third-party headers
# (included as SYSTEM) are exempt.
function(sonic_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()
