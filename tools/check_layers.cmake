# The layering of DESIGN.md as a build step: a file that includes a layer it may not use
# fails the build, naming the file, the line and the rule.
#   cmake -DSOURCE_DIR=<repo> -P tools/check_layers.cmake
#
# workloads/ folders, bottom to top; each may include its own folder and the folders of
# lower ranks only (folders of one rank are siblings and do not include each other):
#   history | clients, checkers | scenario | systems | run, cluster | shrink, capacity |
#   report | cli
# The system under test (broker/), the runtime seam (runtime/) and the simulator (sim/)
# include nothing of workloads/; broker/ includes nothing of sim/ (it sees only the
# runtime interface, DESIGN.md section 2).

set(rank_history 0)
set(rank_clients 1)
set(rank_checkers 1)
set(rank_scenario 2)
set(rank_systems 3)
set(rank_run 4)
set(rank_cluster 4)
set(rank_shrink 5)
set(rank_capacity 5)
set(rank_report 6)
set(rank_cli 7)

set(violations "")

function(check_file path)
  file(RELATIVE_PATH rel ${SOURCE_DIR} ${path})
  file(STRINGS ${path} lines)
  string(REGEX MATCH "^([a-z]+)/" top "${rel}")
  set(top ${CMAKE_MATCH_1})
  set(from_layer "")
  if(top STREQUAL "workloads")
    string(REGEX MATCH "^workloads/([a-z_]+)/" m "${rel}")
    set(from_layer ${CMAKE_MATCH_1})
    if(NOT DEFINED rank_${from_layer})
      set(violations "${violations}${rel}: workloads/${from_layer}/ is no layer; add it to tools/check_layers.cmake\n" PARENT_SCOPE)
      return()
    endif()
  endif()
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(NOT line MATCHES "^#include \"([a-z_]+)/")
      continue()
    endif()
    set(inc_top ${CMAKE_MATCH_1})
    set(inc_layer "")
    if(line MATCHES "^#include \"[a-z_]+/([a-z_]+)/")
      set(inc_layer ${CMAKE_MATCH_1})
    endif()
    if(top MATCHES "^(broker|runtime|sim)$" AND inc_top STREQUAL "workloads")
      set(violations "${violations}${rel}:${n}: ${top}/ may not include workloads/\n")
    elseif(top STREQUAL "broker" AND inc_top STREQUAL "sim")
      set(violations "${violations}${rel}:${n}: broker/ sees only the runtime interface, not sim/\n")
    elseif(from_layer AND inc_top STREQUAL "workloads" AND NOT inc_layer STREQUAL from_layer)
      if(inc_layer STREQUAL "" OR NOT DEFINED rank_${inc_layer})
        set(violations "${violations}${rel}:${n}: includes workloads/${inc_layer}/, which is no layer\n")
      elseif(NOT rank_${inc_layer} LESS rank_${from_layer})
        set(violations "${violations}${rel}:${n}: workloads/${from_layer}/ may not include workloads/${inc_layer}/ (only layers below it)\n")
      endif()
    endif()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE sources
  ${SOURCE_DIR}/workloads/*.h ${SOURCE_DIR}/workloads/*.cc
  ${SOURCE_DIR}/broker/*.h ${SOURCE_DIR}/broker/*.cc
  ${SOURCE_DIR}/runtime/*.h ${SOURCE_DIR}/runtime/*.cc
  ${SOURCE_DIR}/sim/*.h ${SOURCE_DIR}/sim/*.cc)
foreach(path IN LISTS sources)
  check_file(${path})
endforeach()
if(violations)
  message(FATAL_ERROR "layering broken (tools/check_layers.cmake):\n${violations}")
endif()
