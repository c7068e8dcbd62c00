// Peer benchmark: SimGrid S4U mailbox ping-pong.
//
// Two hosts joined by one link; an actor on each host bounces a 1 KiB message
// back and forth through a pair of mailboxes for `round_trips` iterations.
// Each round trip is two put/get rendezvous, i.e. two simulated network
// transfers, two actor context switches per side and the network model's
// share-recomputation for every transfer. We report wall-clock messages per
// second of the Engine::run() phase so the figure can be compared with
// streamlab's own message-passing throughput on the same machine.
//
// The platform is built in code (no XML) so the benchmark has no data files
// and cannot be broken by a relative path at run time.
//
// Usage:
//   peer-simgrid-ping-pong [round_trips] [SimGrid --cfg=... / --log=... flags]
// e.g.
//   peer-simgrid-ping-pong 1000000 --log=root.thres:warning
//   peer-simgrid-ping-pong 1000000 --cfg=contexts/factory:ucontext

#include <simgrid/s4u.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace sg4 = simgrid::s4u;

namespace
{

// Simulated payload size. SimGrid passes payloads by pointer; this value only
// drives the network model's transfer-time computation.
constexpr uint64_t k_message_bytes = 1024;

// Real backing storage for the message, so the payload pointer refers to an
// actual 1 KiB buffer. Both actors run on one OS thread (SimGrid's default
// sequential context mode), so sharing a static buffer is safe.
std::array<char, k_message_bytes> g_message_buffer{};

// Initiator: put to "ping", wait for the echo on "pong".
void pinger(uint64_t round_trips)
{
    sg4::Mailbox* out = sg4::Mailbox::by_name("ping");
    sg4::Mailbox* in = sg4::Mailbox::by_name("pong");
    for (uint64_t i = 0; i < round_trips; ++i)
    {
        out->put(g_message_buffer.data(), k_message_bytes);
        char* echoed = in->get<char>();
        // The echo must be our own buffer; cheap sanity check that the
        // rendezvous paired the right messages.
        if (echoed != g_message_buffer.data())
        {
            std::abort();
        }
    }
}

// Responder: echo every message received on "ping" back on "pong".
void ponger(uint64_t round_trips)
{
    sg4::Mailbox* in = sg4::Mailbox::by_name("ping");
    sg4::Mailbox* out = sg4::Mailbox::by_name("pong");
    for (uint64_t i = 0; i < round_trips; ++i)
    {
        char* message = in->get<char>();
        out->put(message, k_message_bytes);
    }
}

// Two 1 Gflop/s hosts, one 1 GB/s link with 10 us latency, full routing.
void build_platform(sg4::Host*& host_a, sg4::Host*& host_b)
{
    sg4::NetZone* zone = sg4::create_full_zone("peer_zone");
    host_a = zone->create_host("host_a", "1Gf");
    host_b = zone->create_host("host_b", "1Gf");
    const sg4::Link* link = zone->create_link("link_ab", "1GBps")->set_latency("10us")->seal();
    zone->add_route(host_a->get_netpoint(),
                    host_b->get_netpoint(),
                    nullptr,
                    nullptr,
                    {sg4::LinkInRoute(link)},
                    /*symmetrical=*/true);
    zone->seal();
}

} // namespace

int main(int argc, char* argv[])
{
    // Engine consumes its own --cfg= / --log= flags and leaves the rest.
    sg4::Engine engine(&argc, argv);

    uint64_t round_trips = 1000000;
    if (argc > 1)
    {
        char* end = nullptr;
        round_trips = std::strtoull(argv[1], &end, 10);
        if (end == argv[1] || *end != '\0' || round_trips == 0)
        {
            std::fprintf(stderr, "usage: %s [round_trips] [--cfg=...] [--log=...]\n", argv[0]);
            return 2;
        }
    }

    sg4::Host* host_a = nullptr;
    sg4::Host* host_b = nullptr;
    build_platform(host_a, host_b);

    sg4::Actor::create("pinger", host_a, pinger, round_trips);
    sg4::Actor::create("ponger", host_b, ponger, round_trips);

    const auto start = std::chrono::steady_clock::now();
    engine.run();
    const auto stop = std::chrono::steady_clock::now();

    const double wall_seconds = std::chrono::duration<double>(stop - start).count();
    const uint64_t messages = 2 * round_trips;
    std::printf("simgrid s4u mailbox ping-pong messages=%llu messages_per_second=%.3e "
                "round_trips=%llu message_bytes=%llu wall_seconds=%.3f simulated_seconds=%.6f\n",
                static_cast<unsigned long long>(messages),
                static_cast<double>(messages) / wall_seconds,
                static_cast<unsigned long long>(round_trips),
                static_cast<unsigned long long>(k_message_bytes),
                wall_seconds,
                sg4::Engine::get_clock());
    return 0;
}
