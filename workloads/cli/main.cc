// streamlab: run, explore, shrink and list scenarios of the deterministic streaming
// workbench, and run a scenario's nodes for real as a local cluster, with client processes
// and a check.

#include <cstdio>
#include <cstring>
#include <string>

#include "workloads/cli/cli.h"

namespace {

constexpr const char* kUsage = R"(streamlab: a deterministic simulator that runs the real code of a streaming system.

usage: streamlab COMMAND [ARGS]

commands:
  run FILE [--seed N] [--json OUT] [--check-determinism]
                        run one scenario with one seed and judge it
  explore FILE --seeds A..B [--jobs J] [--shard I/N] [--json OUT]
                        run many seeds in parallel; list the seeds that fail
  shrink FILE --seed N [--out MIN] [--jobs J] [--keep ANOMALY]
                        cut a failing run down to a small scenario that fails the same way
  replay FILE --seed N [--events OUT.jsonl] [--from T] [--to T] [--node NAME]...
                        run again, writing the structured event log of the run
  check FILE HISTORY... --logs DIR
                        judge a recorded run again (run --history H --save-logs DIR)
  capacity --workload W.yaml --cluster C [--json OUT] [--report OUT.html] [--vary K=V1,V2]
                        load-test a cluster: max sustainable rate, latencies, bottleneck
  list                  list the scenarios shipped in workloads/scenarios/
  cluster up FILE [--dir DIR] [--clients N] | down DIR | status DIR
                        run a pulsar scenario's nodes for real as local processes
  cluster check DIR HISTORY... [--json OUT] [--allow ANOMALY]...
                        judge a real run with the simulator's queue checker
  produce DIR --topic T [--count N] [--rate R] [--size BYTES] [--as SLOT] ...
                        send messages to a local cluster as a client process
  consume DIR --topic T --subscription S [--type TYPE] [--count N] [--as SLOT] ...
                        receive and acknowledge messages of a local cluster

`streamlab COMMAND --help` describes a command.
exit codes: 0 expectations met, 1 an expectation failed, 2 bad input or usage,
            3 the run is not deterministic (--check-determinism)
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace streamlab::cli;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitBadInput : kExitOk;
  }
  const std::string command = argv[1];
  if (command == "run") return cmd_run(argc - 2, argv + 2);
  if (command == "explore") return cmd_explore(argc - 2, argv + 2);
  if (command == "capacity") return cmd_capacity(argc - 2, argv + 2);
  if (command == "shrink") return cmd_shrink(argc - 2, argv + 2);
  if (command == "replay") return cmd_replay(argc - 2, argv + 2);
  if (command == "check") return cmd_check(argc - 2, argv + 2);
  if (command == "list") return cmd_list(argc - 2, argv + 2);
  if (command == "cluster") return cmd_cluster(argc - 2, argv + 2);
  if (command == "produce") return cmd_produce(argc - 2, argv + 2);
  if (command == "consume") return cmd_consume(argc - 2, argv + 2);
  std::fprintf(stderr, "streamlab: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return kExitBadInput;
}
