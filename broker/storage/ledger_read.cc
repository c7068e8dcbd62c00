// The ledger client's entry reads (ledger_client.h).

#include "broker/storage/ledger_client.h"

#include "broker/storage/wire.h"

namespace streamlab::storage {

void LedgerClient::read(std::uint64_t ledger_id, std::int64_t entry_id, EntryCallback done) {
  metadata_.get(ledger_key(ledger_id), false,
                [this, ledger_id, entry_id, done](const MetaResult& m) {
                  LedgerMetadata metadata;
                  if (m.status == NO_KEY ||
                      (m.status == META_OK && !parse_ledger_metadata(m.value, &metadata))) {
                    done(LedgerError::no_such_ledger, {});
                    return;
                  }
                  if (m.status != META_OK) {
                    done(LedgerError::metadata_error, {});
                    return;
                  }
                  if (entry_id < 0 || (metadata.state() == CLOSED &&
                                       entry_id > metadata.last_entry_id())) {
                    done(LedgerError::no_such_entry, {});
                    return;
                  }
                  // Each ask has its own request id; the read is kept under its first.
                  const std::uint64_t request = next_request_id_++;
                  EntryRead& read = entry_reads_[request];
                  read.ledger_id = ledger_id;
                  read.entry_id = entry_id;
                  read.metadata = std::move(metadata);
                  read.done = done;
                  read_next_bookie(request);
                });
}

void LedgerClient::read_next_bookie(std::uint64_t request_id) {
  EntryRead& read = entry_reads_.at(request_id);
  const Quorums q = quorums_of(read.metadata);
  if (read.tried == q.write_quorum) {
    EntryCallback done = std::move(read.done);
    entry_reads_.erase(request_id);
    done(LedgerError::no_such_entry, {});
    return;
  }
  const Fragment& fragment = read.metadata.fragments(fragment_of(read.metadata, read.entry_id));
  read.bookie = bookie_id(
      fragment.bookies(static_cast<int>(write_set_member(read.entry_id, read.tried, q))));
  ++read.tried;
  out_.Clear();
  ReadEntry* ask = out_.mutable_read_entry();
  ask->set_request_id(request_id);
  ask->set_ledger_id(read.ledger_id);
  ask->set_entry_id(read.entry_id);
  send_message(rt_, read.bookie, out_, send_buffer_);
  const std::uint32_t attempt = read.tried;
  read.timer = rt_.after(config_.read_timeout_ns, [this, request_id, attempt] {
    const auto it = entry_reads_.find(request_id);
    if (it != entry_reads_.end() && it->second.tried == attempt) read_reply(request_id, nullptr);
  });
}

// A reply, or nullptr when the bookie asked will not answer (timeout, broken connection).
void LedgerClient::read_reply(std::uint64_t request_id, const ReadResponse* response) {
  EntryRead& read = entry_reads_.at(request_id);
  rt_.cancel(read.timer);
  if (response != nullptr && response->status() == BK_OK &&
      response->entry_id() == read.entry_id) {
    EntryCallback done = std::move(read.done);
    const std::string payload = response->payload();
    entry_reads_.erase(request_id);
    done(LedgerError::ok, payload);
    return;
  }
  read_next_bookie(request_id);
}

}  // namespace streamlab::storage
