#include "workloads/cluster/processes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "runtime/asio_runtime.h"

namespace streamlab::cluster {

namespace {

constexpr char kNodeBinaryName[] = "streamlab-node";
constexpr auto kPollInterval = std::chrono::milliseconds(20);
constexpr auto kKillWait = std::chrono::seconds(1);

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The state letter of /proc/PID/stat ("R", "S", "Z", ...), after the command name, which
// is in parentheses and may itself hold spaces and parentheses; '\0' if unreadable.
char process_state(std::int32_t pid) {
  const std::string stat = read_whole("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return '\0';
  return stat[close + 2];
}

std::vector<std::string> command_line(std::int32_t pid) {
  const std::string raw = read_whole("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> args;
  std::size_t start = 0;
  while (start < raw.size()) {
    const auto end = raw.find('\0', start);
    args.push_back(raw.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return args;
}

bool runs_node(const std::vector<std::string>& args, std::string_view name) {
  if (args.empty() || std::filesystem::path(args[0]).filename() != kNodeBinaryName) return false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--id" && i + 1 < args.size() && args[i + 1] == name) return true;
    if (args[i] == "--id=" + std::string(name)) return true;
  }
  return false;
}

// Waits until none of `pids` (with their node names) is alive or the deadline passes.
bool wait_all_gone(const std::vector<std::pair<std::int32_t, std::string>>& pids,
                   std::chrono::steady_clock::time_point deadline) {
  while (true) {
    bool any = false;
    for (const auto& [pid, name] : pids) any = any || node_alive(pid, name);
    if (!any) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

// The child's side of spawn_logged, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(char* const* argv, const char* log_path) {
  ::setsid();
  const int log = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || null < 0 || ::dup2(null, STDIN_FILENO) < 0 || ::dup2(log, STDOUT_FILENO) < 0 ||
      ::dup2(log, STDERR_FILENO) < 0) {
    ::_exit(127);
  }
  ::execv(argv[0], argv);
  constexpr char kMessage[] = "streamlab cluster: exec failed: ";
  [[maybe_unused]] auto w1 = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  const char* reason = ::strerror(errno);
  [[maybe_unused]] auto w2 = ::write(STDERR_FILENO, reason, ::strlen(reason));
  [[maybe_unused]] auto w3 = ::write(STDERR_FILENO, "\n", 1);
  ::_exit(127);
}

}  // namespace

Result<std::vector<std::uint16_t>> pick_free_ports(std::size_t count) {
  std::vector<LoopbackListener> held;
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < count; ++i) {
    Result<LoopbackListener> listener = LoopbackListener::open(0);
    if (!listener) return Error{"cannot find a free port on 127.0.0.1: " + listener.error()};
    ports.push_back(listener.value().port());
    held.push_back(std::move(listener.value()));
  }
  return ports;
}

Result<std::string> node_binary() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Error{"cannot find the running executable (/proc/self/exe): " + ec.message()};
  const std::string path = (self.parent_path() / kNodeBinaryName).string();
  if (::access(path.c_str(), X_OK) != 0) {
    return Error{"cannot run " + path + " (" + std::strerror(errno) +
                 "); streamlab-node must be built next to streamlab"};
  }
  return path;
}

Result<pid_t> spawn_logged(const std::vector<std::string>& argv, const std::string& log_path) {
  SL_ASSERT(!argv.empty());
  // Everything the child touches is prepared here: after fork it may not allocate.
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) exec_child(args.data(), log_path.c_str());
  return pid;
}

void kill_children(const std::vector<pid_t>& pids) {
  for (const pid_t pid : pids) ::kill(pid, SIGKILL);
  for (const pid_t pid : pids) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return connected;
}

bool node_alive(std::int32_t pid, std::string_view name) {
  if (pid <= 0) return false;
  const char state = process_state(pid);
  if (state == '\0' || state == 'Z' || state == 'X') return false;
  return runs_node(command_line(pid), name);
}

std::vector<std::string> stop_nodes(const std::vector<ClusterNode>& nodes,
                                    std::chrono::milliseconds grace) {
  std::vector<std::pair<std::int32_t, std::string>> running;
  for (const ClusterNode& node : nodes) {
    if (!node_alive(node.pid, node.name)) continue;
    running.emplace_back(node.pid, node.name);
    ::kill(node.pid, SIGTERM);
    ::kill(node.pid, SIGCONT);
  }
  std::vector<std::string> killed;
  if (wait_all_gone(running, std::chrono::steady_clock::now() + grace)) return killed;
  for (const auto& [pid, name] : running) {
    if (!node_alive(pid, name)) continue;
    ::kill(pid, SIGKILL);
    killed.push_back(name);
  }
  wait_all_gone(running, std::chrono::steady_clock::now() + kKillWait);
  return killed;
}

}  // namespace streamlab::cluster
