#include "workloads/run/run_contained.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "base/assert.h"

namespace streamlab::workloads {

namespace {

// The result crosses back as length-prefixed fields in a memory file the child writes
// and the parent reads once the child is gone.
class Encoder {
 public:
  void u64(std::uint64_t v) { bytes_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    bytes_ += s;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class Decoder {
 public:
  explicit Decoder(const std::string& bytes) : bytes_(bytes) {}
  std::uint64_t u64() {
    std::uint64_t v = 0;
    SL_ASSERT_MSG(at_ + sizeof v <= bytes_.size(), "contained run: result cut short");
    std::memcpy(&v, bytes_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    SL_ASSERT_MSG(n <= bytes_.size() - at_, "contained run: result cut short");
    std::string s = bytes_.substr(at_, n);
    at_ += n;
    return s;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  std::size_t at_ = 0;
};

std::string encode(const RunResult& r) {
  Encoder e;
  e.u64(r.seed);
  e.u64(static_cast<std::uint64_t>(r.runaway));
  e.u64(r.trace_hash);
  e.u64(static_cast<std::uint64_t>(r.sim_time_ns));
  e.u64(r.events);
  std::uint64_t wall_bits = 0;
  std::memcpy(&wall_bits, &r.wall_time_s, sizeof wall_bits);
  e.u64(wall_bits);
  e.u64(r.expectations_met ? 1 : 0);
  e.u64(r.failed_expectations.size());
  for (const std::string& f : r.failed_expectations) e.str(f);
  e.u64(r.check.anomalies.size());
  for (const auto& [name, count] : r.check.anomalies) {
    e.str(name);
    e.u64(count);
    const auto example = r.check.examples.find(name);
    e.str(example == r.check.examples.end() ? std::string() : example->second);
  }
  return e.bytes();
}

RunResult decode(const std::string& bytes) {
  Decoder d(bytes);
  RunResult r;
  r.seed = d.u64();
  r.runaway = static_cast<Runaway>(d.u64());
  r.trace_hash = d.u64();
  r.sim_time_ns = static_cast<std::int64_t>(d.u64());
  r.events = d.u64();
  const std::uint64_t wall_bits = d.u64();
  std::memcpy(&r.wall_time_s, &wall_bits, sizeof wall_bits);
  r.expectations_met = d.u64() == 1;
  const std::uint64_t failed = d.u64();
  for (std::uint64_t i = 0; i < failed; ++i) r.failed_expectations.push_back(d.str());
  const std::uint64_t anomalies = d.u64();
  for (std::uint64_t i = 0; i < anomalies; ++i) {
    const std::string name = d.str();
    r.check.anomalies[name] = d.u64();
    std::string example = d.str();
    if (!example.empty()) r.check.examples[name] = std::move(example);
  }
  SL_ASSERT_MSG(d.done(), "contained run: result has bytes left over");
  return r;
}

bool write_all(int fd, const std::string& bytes) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
    if (n <= 0) return false;
    at += static_cast<std::size_t>(n);
  }
  return true;
}

std::string read_all(int fd) {
  std::string bytes;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  return bytes;
}

// The last lines of what the child wrote to stderr, at most a few hundred bytes.
std::string last_lines(const std::string& text) {
  constexpr std::size_t kKeep = 600;
  std::string tail = text.size() > kKeep ? text.substr(text.size() - kKeep) : text;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  if (text.size() > kKeep) {
    const auto newline = tail.find('\n');
    if (newline != std::string::npos) tail = tail.substr(newline + 1);
  }
  return tail;
}

std::string how_it_ended(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = strsignal(sig);
    return "killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")";
  }
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  return "ended with status " + std::to_string(status);
}

[[noreturn]] void run_child(const ScenarioConfig& config, const RunOptions& options, int result_fd,
                            int stderr_fd) {
  ::dup2(stderr_fd, STDERR_FILENO);
  const RunResult result = run_scenario(config, options);
  // _exit: the parent's atexit handlers and static destructors are not the child's.
  ::_exit(write_all(result_fd, encode(result)) ? 0 : 3);
}

}  // namespace

ContainedRun run_contained(const ScenarioConfig& config, const RunOptions& options) {
  const int result_fd = ::memfd_create("streamlab-result", 0);
  const int stderr_fd = ::memfd_create("streamlab-stderr", 0);
  SL_ASSERT_MSG(result_fd >= 0 && stderr_fd >= 0, std::strerror(errno));
  const pid_t pid = ::fork();
  SL_ASSERT_MSG(pid >= 0, std::strerror(errno));
  if (pid == 0) run_child(config, options, result_fd, stderr_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) SL_ASSERT_MSG(errno == EINTR, std::strerror(errno));
  ContainedRun run;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    run.result = decode(read_all(result_fd));
  } else {
    run.crashed = true;
    run.crash = how_it_ended(status);
    const std::string said = last_lines(read_all(stderr_fd));
    if (!said.empty()) run.crash += ": " + said;
  }
  ::close(result_fd);
  ::close(stderr_fd);
  return run;
}

}  // namespace streamlab::workloads
