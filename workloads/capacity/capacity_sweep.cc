#include "workloads/capacity/capacity_sweep.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "base/assert.h"

namespace streamlab::workloads {

namespace {

// Narrowing rounds at most: each leaves a third, so 30 is far below any float's reach.
constexpr int kMaxNarrowRounds = 30;

std::string bottleneck_of(const LoadPoint& p) {
  if (p.utilisation.empty()) return "nothing was busy";
  const Utilisation& top = p.utilisation.front();
  char words[160];
  std::snprintf(words, sizeof words, "%s at %.0f%%", top.resource.c_str(),
                std::min(top.busy, 9.99) * 100);
  return words;
}

class Search {
 public:
  Search(const CapacityPlan& plan, const SweepSettings& settings)
      : plan_(plan), settings_(settings), jobs_(std::max(1u, settings.jobs)) {}

  Result<SweepResult> run() {
    const auto wall_start = std::chrono::steady_clock::now();
    const OmbWorkload& w = plan_.workload;
    Result<bool> done = w.producer_rate <= 0               ? find_max()
                        : w.producer_increment_rate > 0 ? staircase()
                                                        : fixed();
    if (!done) return Error{done.error()};
    result_.wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return std::move(result_);
  }

 private:
  // Probes every rate, `jobs` at a time; results in the order of `rates`.
  Result<std::vector<LoadPoint>> probe_all(const std::vector<double>& rates,
                                           const std::string& phase) {
    std::vector<std::optional<Result<LoadPoint>>> done(rates.size());
    for (std::size_t first = 0; first < rates.size(); first += jobs_) {
      std::vector<std::thread> threads;
      for (std::size_t i = first; i < std::min(rates.size(), first + jobs_); ++i) {
        threads.emplace_back([&, i] { done[i] = probe(plan_, rates[i], settings_.probe); });
      }
      for (std::thread& t : threads) t.join();
    }
    std::vector<LoadPoint> points;
    for (std::optional<Result<LoadPoint>>& d : done) {
      SL_ASSERT(d.has_value());
      if (!d->ok()) return Error{d->error()};
      LoadPoint& p = points.emplace_back(std::move(d->value()));
      result_.events += p.events;
      result_.peak_published_rate =
          std::max(result_.peak_published_rate, p.measure.per_s(p.measure.published));
      if (settings_.on_point) settings_.on_point(p, phase);
    }
    return points;
  }

  // Takes points in increasing rate: sustainable ones raise `good_` until the first that
  // is not, which becomes `bad_`; the rest are kept as tried.
  void take(std::vector<LoadPoint> points) {
    for (LoadPoint& p : points) {
      if (bad_ == 0 && p.sustainable) {
        good_ = p.target_rate;
        best_ = p;
      } else if (bad_ == 0) {
        bad_ = p.target_rate;
      }
      result_.searched.push_back(std::move(p));
    }
  }

  void settle() {
    result_.found_max = good_ > 0;
    result_.max_rate = good_;
    result_.at_max = best_;
    result_.bottleneck = bottleneck_of(best_);
  }

  Result<bool> fixed() {
    Result<std::vector<LoadPoint>> p = probe_all({plan_.workload.producer_rate}, "fixed rate");
    if (!p) return Error{p.error()};
    result_.at_max = p.value().front();
    result_.max_rate = plan_.workload.producer_rate;
    result_.curve.push_back(result_.at_max);
    result_.searched.push_back(result_.at_max);
    result_.bottleneck = bottleneck_of(result_.at_max);
    return true;
  }

  // OMB's old ramp: producerStartRate, then producerIncrementRate more, up to producerRate.
  Result<bool> staircase() {
    const OmbWorkload& w = plan_.workload;
    std::vector<double> rates;
    const double first = w.producer_start_rate > 0 ? w.producer_start_rate : w.producer_increment_rate;
    for (double r = first; r <= w.producer_rate; r += w.producer_increment_rate) {
      rates.push_back(r);
    }
    Result<std::vector<LoadPoint>> points = probe_all(rates, "step");
    if (!points) return Error{points.error()};
    result_.curve = points.value();
    take(std::move(points.value()));
    settle();
    return true;
  }

  Result<bool> find_max() {
    double rate = plan_.workload.producer_start_rate > 0 ? plan_.workload.producer_start_rate
                                                         : settings_.start_rate;
    while (bad_ == 0 && rate <= settings_.max_rate) {
      std::vector<double> rates;
      for (std::size_t i = 0; i < jobs_ && rate <= settings_.max_rate; ++i, rate *= 2) {
        rates.push_back(rate);
      }
      Result<std::vector<LoadPoint>> points = probe_all(rates, "ramp");
      if (!points) return Error{points.error()};
      take(std::move(points.value()));
    }
    if (bad_ == 0) {
      result_.hit_limit = true;
      settle();
      return true;
    }
    // Nothing sustainable at the start: the bracket's low end is 0, and the precision is
    // taken against a 64th of its top instead.
    for (int round = 0; round < kMaxNarrowRounds &&
                        bad_ - good_ > settings_.precision * std::max(good_, bad_ / 64);
         ++round) {
      const double low = good_;
      const double high = bad_;
      bad_ = 0;
      Result<std::vector<LoadPoint>> points =
          probe_all({low + (high - low) / 3, low + (high - low) * 2 / 3}, "narrow");
      if (!points) return Error{points.error()};
      take(std::move(points.value()));
      if (bad_ == 0) bad_ = high;
      SL_ASSERT_GE(good_, low);
      SL_ASSERT_LE(bad_, high);
    }
    settle();
    if (good_ == 0) return true;
    std::vector<double> rates;
    for (const double f : settings_.curve) rates.push_back(good_ * f);
    Result<std::vector<LoadPoint>> curve = probe_all(rates, "curve");
    if (!curve) return Error{curve.error()};
    result_.curve = std::move(curve.value());
    result_.curve.push_back(best_);
    return true;
  }

  const CapacityPlan& plan_;
  const SweepSettings& settings_;
  const std::size_t jobs_;
  SweepResult result_;
  double good_ = 0;
  double bad_ = 0;
  LoadPoint best_;
};

}  // namespace

Result<SweepResult> sweep(const CapacityPlan& plan, const SweepSettings& settings) {
  SL_ASSERT_GT(settings.precision, 0);
  SL_ASSERT_GT(settings.start_rate, 0);
  return Search(plan, settings).run();
}

}  // namespace streamlab::workloads
