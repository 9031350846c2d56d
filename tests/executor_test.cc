#include "agent/runtime/executor.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace datagen {
namespace {

TEST(ExecutorTest, RunsTasksOnItsThreadsNotTheCallers) {
  Executor executor(2);
  absl::Notification ran;
  std::thread::id where;
  executor.Run([&] {
    where = std::this_thread::get_id();
    ran.Notify();
  });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_NE(where, std::this_thread::get_id());
}

TEST(ExecutorTest, ShutdownRunsEveryQueuedTaskThenDropsLaterOnes) {
  std::atomic<int> done{0};
  Executor executor(1);
  absl::Notification release;
  executor.Run([&] { release.WaitForNotification(); });  // holds the only thread
  for (int i = 0; i < 10; ++i) executor.Run([&] { ++done; });
  release.Notify();
  executor.Shutdown();
  EXPECT_EQ(done.load(), 10) << "work already queued is never lost";
  executor.Run([&] { ++done; });
  executor.Shutdown();  // idempotent
  EXPECT_EQ(done.load(), 10) << "nothing runs after shutdown";
}

TEST(ExecutorTest, TasksRunConcurrentlyUpToItsThreads) {
  Executor executor(2);
  absl::Notification both_running;
  std::atomic<int> running{0};
  for (int i = 0; i < 2; ++i) {
    executor.Run([&] {
      if (++running == 2) both_running.Notify();
      both_running.WaitForNotificationWithTimeout(absl::Seconds(10));
    });
  }
  EXPECT_TRUE(both_running.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

}  // namespace
}  // namespace datagen
