#include "agent/session/watch_hub.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace datagen {
namespace {

struct Recorder : WatchHub::Watcher {
  void OnSessionEvent(const agent::v1::WatchEvent& event) override { events.push_back(event); }
  std::vector<agent::v1::WatchEvent> events;
};

agent::v1::SessionSnapshot State(agent::v1::SessionState state) {
  agent::v1::SessionSnapshot snapshot;
  snapshot.set_state(state);
  return snapshot;
}

TEST(WatchHubTest, ANewWatcherHearsTheCurrentStateAtTheCurrentGeneration) {
  WatchHub hub;
  hub.Publish(agent::v1::SESSION_CHANGE_SIGNED_IN, State(agent::v1::SESSION_STATE_SIGNED_IN));
  Recorder late;
  hub.Add(&late, State(agent::v1::SESSION_STATE_SIGNED_IN));
  ASSERT_EQ(late.events.size(), 1u);
  EXPECT_EQ(late.events[0].change(), agent::v1::SESSION_CHANGE_INITIAL);
  EXPECT_EQ(late.events[0].generation(), 1u) << "nothing changed: no new generation";
  EXPECT_EQ(late.events[0].session().state(), agent::v1::SESSION_STATE_SIGNED_IN);
}

// A watcher tells a new agent (whose generations begin again) by agent_instance.
TEST(WatchHubTest, EveryEventNamesTheAgentInstance) {
  WatchHub hub;
  Recorder watcher;
  hub.Add(&watcher, State(agent::v1::SESSION_STATE_SIGNED_OUT));
  hub.Publish(agent::v1::SESSION_CHANGE_SIGNED_IN, State(agent::v1::SESSION_STATE_SIGNED_IN));
  ASSERT_EQ(watcher.events.size(), 2u);
  EXPECT_EQ(watcher.events[0].agent_instance(), hub.instance());
  EXPECT_EQ(watcher.events[1].agent_instance(), hub.instance());
  EXPECT_EQ(hub.instance().find(std::to_string(getpid()) + "-"), 0u);
  WatchHub another;
  EXPECT_NE(another.instance(), hub.instance()) << "a new hub, as in a new agent";
}

TEST(WatchHubTest, EveryChangeIsTheNextGenerationToEveryWatcherInOrder) {
  WatchHub hub;
  Recorder a, b;
  hub.Add(&a, State(agent::v1::SESSION_STATE_SIGNED_OUT));
  hub.Add(&b, State(agent::v1::SESSION_STATE_SIGNED_OUT));
  hub.Publish(agent::v1::SESSION_CHANGE_SIGNED_IN, State(agent::v1::SESSION_STATE_SIGNED_IN));
  hub.Publish(agent::v1::SESSION_CHANGE_SIGNED_OUT, State(agent::v1::SESSION_STATE_SIGNED_OUT));
  for (const Recorder* r : {&a, &b}) {
    ASSERT_EQ(r->events.size(), 3u);
    EXPECT_EQ(r->events[1].generation(), 1u);
    EXPECT_EQ(r->events[1].change(), agent::v1::SESSION_CHANGE_SIGNED_IN);
    EXPECT_EQ(r->events[2].generation(), 2u);
    EXPECT_EQ(r->events[2].change(), agent::v1::SESSION_CHANGE_SIGNED_OUT);
  }
  EXPECT_EQ(hub.generation(), 2u);
}

TEST(WatchHubTest, ARemovedWatcherHearsNothingMoreAndOthersStillDo) {
  WatchHub hub;
  Recorder gone, staying;
  uint64_t handle = hub.Add(&gone, State(agent::v1::SESSION_STATE_SIGNED_OUT));
  hub.Add(&staying, State(agent::v1::SESSION_STATE_SIGNED_OUT));
  hub.Remove(handle);
  hub.Remove(handle);  // twice, or an unknown handle: ignored
  hub.Publish(agent::v1::SESSION_CHANGE_EXPIRED, State(agent::v1::SESSION_STATE_EXPIRED));
  EXPECT_EQ(gone.events.size(), 1u);
  EXPECT_EQ(staying.events.size(), 2u);
  EXPECT_EQ(hub.size(), 1u);
}

}  // namespace
}  // namespace datagen
