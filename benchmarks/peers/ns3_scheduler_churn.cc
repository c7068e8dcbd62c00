// Peer benchmark: ns-3 event-scheduler churn ("hold model").
//
// Same experiment shape as ns-3's utils/bench-scheduler.cc, written from
// scratch against the public ns-3 core API so streamlab's kernel can be
// compared with ns-3 on the same machine:
//
//   1. prefill `pending` events at exponential(mean 100 ns) offsets from t=0;
//   2. run until `events` events have executed, where every executed event
//      schedules exactly one replacement at now + exponential(mean 100 ns),
//      so the pending-set size stays at `pending` for the whole run;
//   3. report executed events per wall-clock second of phase 2 only.
//
// Two measurement paths (--mode):
//
//   simulator (default): Simulator::SetScheduler + Simulator::Schedule +
//     Simulator::Run. This is the faithful analogue of bench-scheduler.cc,
//     which also goes through the Simulator facade, so the figure includes
//     EventImpl allocation, Ptr reference counting, DefaultSimulatorImpl
//     bookkeeping and callback dispatch on top of the queue itself. It is the
//     number to put next to a full simulator kernel's schedule/dispatch loop.
//
//   direct: drives the Scheduler object alone (Insert / RemoveNext) with bare
//     keys and no EventImpl. This isolates the priority-queue cost and is the
//     number to put next to a bare event-queue microbenchmark.
//
// Delays come from ns-3's ExponentialRandomVariable (Mean=100) by default,
// as in bench-scheduler.cc; --rng=std swaps in std::mt19937_64 +
// std::exponential_distribution so the RNG cost can be separated out.
// Delays are truncated to whole nanoseconds in both modes, so both modes see
// the same timestamp distribution (including zero-ns delays, i.e. ties).
//
// Usage:
//   peer-ns3-scheduler-churn --pending=100000 --events=10000000
//                            [--scheduler=map|heap|calendar|priority|list]
//                            [--mode=simulator|direct] [--rng=ns3|std]
//                            [--seed=1]

#include "ns3/core-module.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

namespace
{

// Maps the short --scheduler name onto the ns-3 TypeId name; empty if unknown.
std::string scheduler_type_name(const std::string& short_name)
{
    if (short_name == "map")
    {
        return "ns3::MapScheduler";
    }
    if (short_name == "heap")
    {
        return "ns3::HeapScheduler";
    }
    if (short_name == "calendar")
    {
        return "ns3::CalendarScheduler";
    }
    if (short_name == "priority")
    {
        return "ns3::PriorityQueueScheduler";
    }
    if (short_name == "list")
    {
        // O(pending) insert: only usable with small pending sets.
        return "ns3::ListScheduler";
    }
    return {};
}

// Source of inter-event delays. Kept as one small concrete class (rather than
// a virtual interface) so the per-event overhead of the harness stays low and
// identical across modes.
class delay_source
{
  public:
    delay_source(bool use_ns3_rng, uint32_t seed)
        : use_ns3_rng_(use_ns3_rng),
          std_engine_(seed),
          std_exponential_(1.0 / k_mean_delay_ns)
    {
        if (use_ns3_rng_)
        {
            ns3_exponential_ = ns3::CreateObject<ns3::ExponentialRandomVariable>();
            ns3_exponential_->SetAttribute("Mean", ns3::DoubleValue(k_mean_delay_ns));
        }
    }

    // Delay in whole nanoseconds. Truncating the double matches what
    // bench-scheduler.cc gets from NanoSeconds(double), which binds to
    // NanoSeconds(uint64_t); with ns-3's default 1 ns Time resolution this is
    // also exactly the timestamp unit the scheduler sees in both modes.
    uint64_t next_ns()
    {
        const double delay_ns = use_ns3_rng_ ? ns3_exponential_->GetValue()
                                             : std_exponential_(std_engine_);
        return static_cast<uint64_t>(delay_ns);
    }

    ns3::Time next()
    {
        return ns3::NanoSeconds(next_ns());
    }

  private:
    static constexpr double k_mean_delay_ns = 100.0;

    bool use_ns3_rng_;
    ns3::Ptr<ns3::ExponentialRandomVariable> ns3_exponential_;
    std::mt19937_64 std_engine_;
    std::exponential_distribution<double> std_exponential_;
};

struct churn_result
{
    double prefill_seconds = 0.0;
    double run_seconds = 0.0;
    uint64_t executed = 0;
};

double seconds_between(std::chrono::steady_clock::time_point start,
                       std::chrono::steady_clock::time_point stop)
{
    return std::chrono::duration<double>(stop - start).count();
}

// --- mode=simulator -------------------------------------------------------

// State shared by all churn events. Events carry only `this`, like a typical
// ns-3 model callback, so the per-event payload is minimal.
class simulator_churn
{
  public:
    simulator_churn(delay_source& delays, uint64_t target_events)
        : delays_(delays),
          target_events_(target_events)
    {
    }

    void on_event()
    {
        ++executed_;
        if (executed_ >= target_events_)
        {
            // Stop() just raises a flag; Run() returns after this event.
            ns3::Simulator::Stop();
            return;
        }
        ns3::Simulator::Schedule(delays_.next(), &simulator_churn::on_event, this);
    }

    uint64_t executed() const
    {
        return executed_;
    }

  private:
    delay_source& delays_;
    uint64_t target_events_;
    uint64_t executed_ = 0;
};

churn_result run_simulator_mode(const std::string& type_name,
                                delay_source& delays,
                                uint64_t pending,
                                uint64_t target_events)
{
    ns3::ObjectFactory factory;
    factory.SetTypeId(type_name);
    ns3::Simulator::SetScheduler(factory);

    simulator_churn churn(delays, target_events);
    churn_result result;

    const auto prefill_start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < pending; ++i)
    {
        ns3::Simulator::Schedule(delays.next(), &simulator_churn::on_event, &churn);
    }
    const auto run_start = std::chrono::steady_clock::now();
    ns3::Simulator::Run();
    const auto run_stop = std::chrono::steady_clock::now();

    result.prefill_seconds = seconds_between(prefill_start, run_start);
    result.run_seconds = seconds_between(run_start, run_stop);
    result.executed = churn.executed();

    // Tear-down frees the `pending` leftover events; kept out of the timing.
    ns3::Simulator::Destroy();
    return result;
}

// --- mode=direct ----------------------------------------------------------

churn_result run_direct_mode(const std::string& type_name,
                             delay_source& delays,
                             uint64_t pending,
                             uint64_t target_events)
{
    ns3::ObjectFactory factory;
    factory.SetTypeId(type_name);
    ns3::Ptr<ns3::Scheduler> scheduler = factory.Create<ns3::Scheduler>();

    // The scheduler orders on (timestamp, uid); impl is never dereferenced by
    // the scheduler itself, so no EventImpl is needed to measure the queue.
    uint32_t next_uid = 0;
    auto make_event = [&next_uid](uint64_t timestamp) {
        ns3::Scheduler::Event ev;
        ev.impl = nullptr;
        ev.key.m_ts = timestamp;
        ev.key.m_uid = next_uid++;
        ev.key.m_context = 0;
        return ev;
    };

    churn_result result;
    const auto prefill_start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < pending; ++i)
    {
        scheduler->Insert(make_event(delays.next_ns()));
    }
    const auto run_start = std::chrono::steady_clock::now();
    uint64_t executed = 0;
    while (executed < target_events && !scheduler->IsEmpty())
    {
        const ns3::Scheduler::Event ev = scheduler->RemoveNext();
        ++executed;
        if (executed < target_events)
        {
            scheduler->Insert(make_event(ev.key.m_ts + delays.next_ns()));
        }
    }
    const auto run_stop = std::chrono::steady_clock::now();

    result.prefill_seconds = seconds_between(prefill_start, run_start);
    result.run_seconds = seconds_between(run_start, run_stop);
    result.executed = executed;
    return result;
}

} // namespace

int main(int argc, char* argv[])
{
    uint64_t pending = 100000;
    uint64_t events = 10000000;
    std::string scheduler = "map";
    std::string mode = "simulator";
    std::string rng = "ns3";
    uint32_t seed = 1;

    ns3::CommandLine cmd;
    cmd.Usage("ns-3 scheduler churn benchmark (hold model, exponential 100 ns delays).");
    cmd.AddValue("pending", "number of pending events kept in the queue", pending);
    cmd.AddValue("events", "number of events to execute in the timed phase", events);
    cmd.AddValue("scheduler", "map|heap|calendar|priority|list", scheduler);
    cmd.AddValue("mode", "simulator (Simulator::Schedule/Run) | direct (Scheduler object)", mode);
    cmd.AddValue("rng", "ns3 (ExponentialRandomVariable) | std (mt19937_64)", rng);
    cmd.AddValue("seed", "RNG seed (ns-3 RngSeedManager seed or mt19937_64 seed)", seed);
    cmd.Parse(argc, argv);

    const std::string type_name = scheduler_type_name(scheduler);
    if (type_name.empty() || (mode != "simulator" && mode != "direct") ||
        (rng != "ns3" && rng != "std") || pending == 0 || events == 0)
    {
        std::fprintf(stderr, "invalid arguments; run with --PrintHelp\n");
        return 2;
    }

    // Fixed seed so repeated runs replay the same event sequence.
    ns3::RngSeedManager::SetSeed(seed);
    delay_source delays(rng == "ns3", seed);

    const churn_result result = mode == "simulator"
                                    ? run_simulator_mode(type_name, delays, pending, events)
                                    : run_direct_mode(type_name, delays, pending, events);

    // "ns3::MapScheduler" -> "MapScheduler" for the report line.
    const std::string short_type = type_name.substr(type_name.rfind(':') + 1);
    std::printf("ns3 %s pending=%llu events=%llu events_per_second=%.3e "
                "mode=%s rng=%s run_seconds=%.3f prefill_seconds=%.3f\n",
                short_type.c_str(),
                static_cast<unsigned long long>(pending),
                static_cast<unsigned long long>(result.executed),
                static_cast<double>(result.executed) / result.run_seconds,
                mode.c_str(),
                rng.c_str(),
                result.run_seconds,
                result.prefill_seconds);
    return 0;
}
