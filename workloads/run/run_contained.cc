#include "workloads/run/run_contained.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
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

struct Child {
  std::size_t index = 0;
  int result_fd = -1;
  int stderr_fd = -1;
};

Child start_child(std::size_t index, const ContainedJob& job) {
  SL_ASSERT_NE(job.first, nullptr);
  Child child{index, ::memfd_create("streamlab-result", 0), ::memfd_create("streamlab-stderr", 0)};
  SL_ASSERT_MSG(child.result_fd >= 0 && child.stderr_fd >= 0, std::strerror(errno));
  return child;
}

ContainedRun finish_child(const Child& child, int status) {
  const int result_fd = child.result_fd;
  const int stderr_fd = child.stderr_fd;
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

}  // namespace

void run_contained_batch(std::size_t count, std::size_t jobs,
                         const std::function<ContainedJob(std::size_t)>& run,
                         const std::function<void(std::size_t, ContainedRun)>& done) {
  SL_ASSERT_GT(jobs, 0);
  std::map<pid_t, Child> running;
  std::size_t next = 0;
  while (next < count || !running.empty()) {
    while (next < count && running.size() < jobs) {
      const ContainedJob job = run(next);
      const Child child = start_child(next, job);
      const pid_t pid = ::fork();
      SL_ASSERT_MSG(pid >= 0, std::strerror(errno));
      if (pid == 0) run_child(*job.first, job.second, child.result_fd, child.stderr_fd);
      running.emplace(pid, child);
      ++next;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      SL_ASSERT_MSG(errno == EINTR, std::strerror(errno));
      continue;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;  // Not one of ours.
    const Child child = it->second;
    running.erase(it);
    done(child.index, finish_child(child, status));
  }
}

ContainedRun run_contained(const ScenarioConfig& config, const RunOptions& options) {
  ContainedRun out;
  run_contained_batch(
      1, 1, [&](std::size_t) { return ContainedJob{&config, options}; },
      [&](std::size_t, ContainedRun run) { out = std::move(run); });
  return out;
}

}  // namespace streamlab::workloads
