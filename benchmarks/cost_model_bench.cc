// The CPU work the simulator's cost model charges (runtime/runtime.h `Work`), measured here
// so hardware profiles can cite "benchmarks/cost_model_bench.cc BM_x": each kind's real work
// at 100 B and 64 KiB (counter charged_bytes: what the code passes to Runtime::charge); a
// line through the two gives per_message_ns and per_byte_ps. Private functions' protobuf
// work is reproduced (same messages and fields) and named; wire serialization is Work::send
// wherever it happens. Sections: wire, client, broker, bookie, REAL DISK (writes the disk).

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/pulsar/wire.h"
#include "broker/storage/record_log.h"
#include "broker/storage/wire.h"

namespace streamlab {
namespace {

constexpr std::string_view kKey = "key-0042";
constexpr std::uint32_t kBatchingMaxMessages = 1000;  // ProducerConfig's defaults.
constexpr std::uint32_t kBatchingMaxBytes = 128 * 1024;

void report(benchmark::State& state, std::size_t charged_bytes) {
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(charged_bytes));
  state.counters["charged_bytes"] = static_cast<double>(charged_bytes);
}

// The fields Client::Impl::add_message sets on each message of a batch.
void add_single(pulsar::EntryData& entry, std::uint64_t seq, std::string_view payload) {
  pulsar::SingleMessage* m = entry.add_messages();
  m->set_sequence_id(seq);
  m->set_key(kKey.data(), kKey.size());
  m->set_payload(payload.data(), payload.size());
  m->set_publish_time_ns(1'000'000'000);
}

// A stored entry (EntryData) holding `count` messages of `payload_bytes`.
std::string make_entry(std::size_t payload_bytes, std::uint32_t count = 1) {
  pulsar::EntryData entry;
  entry.set_producer_name("client-0");
  const std::string payload(payload_bytes, 'p');
  for (std::uint32_t i = 0; i < count; ++i) add_single(entry, i, payload);
  return entry.SerializeAsString();
}

// The fields LedgerClient::send_add sets.
void fill_add(storage::AddEntry* a, std::int64_t entry, const std::string& payload) {
  a->set_ledger_id(7);
  a->set_entry_id(entry);
  a->set_lac(entry - 2);
  a->set_payload(payload);  // And recovery = false.
}

// A Send as Client::Impl::transmit fills it.
pulsar::PulsarMessage make_send(std::size_t payload_bytes) {
  pulsar::PulsarMessage message;
  pulsar::Send* s = message.mutable_send();
  s->set_producer_id(3);
  s->set_sequence_id(41);
  s->set_highest_sequence_id(41);
  s->set_num_messages(1);
  s->set_entry(make_entry(payload_bytes));
  return message;
}

storage::StorageMessage make_add(std::size_t payload_bytes) {
  storage::StorageMessage message;
  fill_add(message.mutable_add_entry(), 1234, make_entry(payload_bytes));
  return message;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// [SECTION] Wire: Work::send, Work::receive (charged on the serialized size)
// pulsar::send_message / storage::send_message, up to Runtime::send.
template <typename Message>
void serialize_loop(benchmark::State& state, const Message& message) {
  std::vector<std::uint8_t> buffer;
  for (auto _ : state) {
    buffer.resize(message.ByteSizeLong());
    benchmark::DoNotOptimize(message.SerializeToArray(buffer.data(), int(buffer.size())));
  }
  report(state, buffer.size());
}

// pulsar:: or storage::parse_message (by ADL) into a reused message, as Bookie::in_ is.
template <typename Message>
void parse_loop(benchmark::State& state, const Message& sample) {
  const std::string bytes = sample.SerializeAsString();
  Message in;
  for (auto _ : state) benchmark::DoNotOptimize(parse_message(as_bytes(bytes), &in));
  report(state, bytes.size());
}

void BM_send_pulsar(benchmark::State& state) { serialize_loop(state, make_send(state.range(0))); }
void BM_send_storage(benchmark::State& state) { serialize_loop(state, make_add(state.range(0))); }
void BM_receive_pulsar(benchmark::State& state) { parse_loop(state, make_send(state.range(0))); }
void BM_receive_storage(benchmark::State& state) { parse_loop(state, make_add(state.range(0))); }

// [SECTION] Client: Work::produce, Work::consume (charged on key + payload)
// One message per iteration through Client::Impl::add_message; flush and transmit (the batch
// serialized into the reused send_out_'s entry) at the default bounds: full batches, as a
// throughput-bound producer makes. flush moves the batch out: each is a fresh EntryData.
void BM_produce(benchmark::State& state) {
  const std::string payload(state.range(0), 'p');
  const auto size = static_cast<std::uint32_t>(kKey.size() + payload.size());
  pulsar::EntryData entry;
  std::string send_entry;
  std::uint64_t seq = 0;
  auto flush = [&] {
    entry.set_sequence_id(seq - entry.messages_size());
    entry.set_highest_sequence_id(seq - 1);
    entry.set_producer_name("client-0");
    benchmark::DoNotOptimize(entry.SerializeToString(&send_entry));
    entry = pulsar::EntryData();  // `part.open = Batch{}`: the old one is dropped later.
  };
  for (auto _ : state) {
    const auto count = static_cast<std::uint32_t>(entry.messages_size());
    if (count > 0 && (count + 1) * size > kBatchingMaxBytes) flush();
    add_single(entry, seq++, payload);
    const auto after = static_cast<std::uint32_t>(entry.messages_size());
    if (after >= kBatchingMaxMessages || after * size >= kBatchingMaxBytes) flush();
  }
  report(state, size);
}

// One message per iteration through Client::Impl::deliver_one, sharing on_delivery's parse
// of its entry (batched as BM_produce's; a fresh EntryData each). Of the Message handed to
// the application (views into scratch strings) only its MessageId costs anything.
void BM_consume(benchmark::State& state) {
  const auto size = static_cast<std::uint32_t>(kKey.size() + state.range(0));
  const std::uint32_t n = std::min(kBatchingMaxMessages, std::max(1u, kBatchingMaxBytes / size));
  const std::string delivered = make_entry(state.range(0), n);
  pulsar::EntryData held;
  std::string scratch_key, scratch_payload, scratch_producer;
  std::uint32_t index = n;
  for (auto _ : state) {
    if (index == n) {
      held = pulsar::EntryData();  // Parsed into a fresh one; the last is dropped.
      benchmark::DoNotOptimize(held.ParseFromString(delivered));
      index = 0;
    }
    const pulsar::SingleMessage& m = held.messages(static_cast<int>(index));
    scratch_key.assign(m.key());
    scratch_payload.assign(m.payload());
    scratch_producer.assign(held.producer_name());
    pulsar::MessageId id;  // Its other fields are stores too.
    id.set_batch_index(static_cast<std::int32_t>(index++));
  }
  report(state, size);
}

// [SECTION] Broker: Work::publish, Work::dispatch (charged on the entry's size)
// Topic::publish (dedup lookup), ManagedLedger::append (takes the entry by value, keeps it
// until the add completes), LedgerClient::append (copies it into a PendingAdd), send_add
// (fills the AddEntry the quorum's messages are serialized from); adds complete 64 behind.
void BM_publish(benchmark::State& state) {
  const std::string entry = make_entry(state.range(0));
  std::map<std::string, std::int64_t> dedup{{"client-0", 0}};
  std::map<std::uint64_t, std::string> in_flight;  // ManagedLedger::in_flight_entries_.
  std::deque<std::string> pending;                 // LedgerClient's PendingAdd payloads.
  storage::StorageMessage out;
  std::uint64_t token = 0;
  for (auto _ : state) {
    ++dedup.find("client-0")->second;
    std::string appended(entry);
    pending.emplace_back().assign(appended);
    in_flight.emplace(token, std::move(appended));
    out.mutable_add_entry()->Clear();  // The field, not the message: the AddEntry stays.
    fill_add(out.mutable_add_entry(), static_cast<std::int64_t>(token), pending.back());
    if (++token <= 64) continue;
    in_flight.erase(in_flight.begin());
    pending.pop_front();
  }
  report(state, entry.size());
}

// Subscription::dispatch's read callback (the entry copied into a ReadSlot) and
// Subscription::deliver (out_.Clear() drops the last Delivery; set_entry copies again).
void BM_dispatch(benchmark::State& state) {
  const std::string entry = make_entry(state.range(0));
  std::deque<std::string> reads;
  std::set<std::uint64_t> unacked;  // ConsumerState::pending, acked 64 behind.
  pulsar::PulsarMessage out;
  std::uint64_t pos = 0;
  for (auto _ : state) {
    reads.emplace_back().assign(entry);
    unacked.insert(++pos);
    out.Clear();
    pulsar::Delivery* d = out.mutable_delivery();
    d->set_consumer_id(5);  // And redelivery_count: stores.
    d->mutable_message_id()->set_entry_id(static_cast<std::int64_t>(pos));  // Allocates it.
    d->set_entry(reads.front());
    reads.pop_front();
    if (pos > 64) unacked.erase(unacked.begin());
  }
  report(state, entry.size());
}

// [SECTION] Bookie: Work::journal_append, Work::entry_read (no code charges entry_write)
// Bookie::append_record: JournalRecord serialized, framed (length, checksum) into the
// group-commit batch, which is written and cleared (capacity kept) at the threshold.
void BM_journal_append(benchmark::State& state) {
  const std::string payload = make_entry(state.range(0));
  storage::JournalRecord record;
  std::vector<std::uint8_t> body, batch;  // record_bytes_ and open_.bytes.
  std::int64_t entry = 0;
  for (auto _ : state) {
    record.set_ledger_id(7);
    record.set_entry_id(entry);
    record.set_lac(entry++ - 2);
    record.set_payload(payload);  // And fence = false.
    body.resize(record.ByteSizeLong());
    benchmark::DoNotOptimize(record.SerializeToArray(body.data(), int(body.size())));
    storage::append_framed(body, batch);
    if (batch.size() >= 512 * 1024) batch.clear();  // BookieConfig's default threshold.
  }
  report(state, payload.size());
}

// Bookie::entry_read (after the disk read): unframe_one checks the checksum, the record
// is parsed into the reused record_, and reply_read swaps its payload into ReadResponse.
void BM_entry_read(benchmark::State& state) {
  storage::JournalRecord record;
  record.set_ledger_id(7);
  record.set_entry_id(1234);
  record.set_payload(make_entry(state.range(0)));
  std::vector<std::uint8_t> framed;
  storage::append_framed(as_bytes(record.SerializeAsString()), framed);
  storage::StorageMessage read_out;
  for (auto _ : state) {
    const auto body = storage::unframe_one(framed);
    if (!body || !record.ParseFromArray(body->data(), static_cast<int>(body->size())) ||
        record.fence() || record.ledger_id() != 7 || record.entry_id() != 1234) {
      state.SkipWithError("the record did not read back");
      break;
    }
    storage::ReadResponse* r = read_out.mutable_read_response();  // Its scalars are stores.
    r->set_status(storage::BK_OK);
    r->mutable_payload()->swap(*record.mutable_payload());
  }
  report(state, framed.size());
}

void sizes(benchmark::internal::Benchmark* b) { b->Arg(100)->Arg(64 << 10); }
BENCHMARK(BM_send_pulsar)->Apply(sizes);
BENCHMARK(BM_send_storage)->Apply(sizes);
BENCHMARK(BM_receive_pulsar)->Apply(sizes);
BENCHMARK(BM_receive_storage)->Apply(sizes);
BENCHMARK(BM_produce)->Apply(sizes);
BENCHMARK(BM_consume)->Apply(sizes);
BENCHMARK(BM_publish)->Apply(sizes);
BENCHMARK(BM_dispatch)->Apply(sizes);
BENCHMARK(BM_journal_append)->Apply(sizes);
BENCHMARK(BM_entry_read)->Apply(sizes);

// [SECTION] REAL DISK: `chunk_bytes` appended per iteration to a file in the build directory
// (or $STREAMLAB_BENCH_DIR), fdatasync every `sync_every` and after the last; iterations
// are fixed, the file removed. A regular file takes a whole write or fails.
void disk_loop(benchmark::State& state, std::size_t chunk_bytes, std::int64_t sync_every) {
  const char* dir = std::getenv("STREAMLAB_BENCH_DIR");
  const std::string path = std::string(dir ? dir : STREAMLAB_BENCH_DIR) + "/cost_model_bench.tmp";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const std::vector<char> chunk(chunk_bytes, 'j');
  std::int64_t written = 0;
  for (auto _ : state) {
    const bool ok = fd >= 0 && ::write(fd, chunk.data(), chunk.size()) == ssize_t(chunk_bytes);
    const bool sync = ++written % sync_every == 0 || written == state.max_iterations;
    if (!ok || (sync && ::fdatasync(fd) != 0)) {
      state.SkipWithError("open, write or fdatasync failed");
      break;
    }
  }
  if (fd >= 0) ::close(fd);
  ::unlink(path.c_str());
  state.SetBytesProcessed(written * static_cast<std::int64_t>(chunk_bytes));
}

// An appending journal's durable write: 4 KiB, then fdatasync (the size changes too).
void BM_fdatasync_4k(benchmark::State& state) { disk_loop(state, 4096, 1); }
BENCHMARK(BM_fdatasync_4k)->Iterations(500)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Disk bandwidth: 1 MiB writes, fdatasync every 16 MiB and at the end (256 MiB in all).
void BM_sequential_write_1mib(benchmark::State& state) { disk_loop(state, 1 << 20, 16); }
BENCHMARK(BM_sequential_write_1mib)->Iterations(256)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace streamlab
