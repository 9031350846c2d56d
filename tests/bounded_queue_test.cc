#include "agent/runtime/bounded_queue.h"

#include "gtest/gtest.h"

namespace datagen {
namespace {

TEST(BoundedQueueTest, FirstInFirstOut) {
  BoundedQueue<int> queue(3);
  queue.Push(1);
  queue.Push(2);
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.Pop(), 1);
  EXPECT_EQ(queue.Pop(), 2);
  EXPECT_TRUE(queue.empty());
}

TEST(BoundedQueueTest, WhenFullTheOldestIsDroppedNeverTheNewest) {
  BoundedQueue<int> queue(3);
  for (int i = 1; i <= 5; ++i) queue.Push(i);
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.dropped(), 2u);
  EXPECT_EQ(queue.Pop(), 3);
  EXPECT_EQ(queue.Pop(), 4);
  EXPECT_EQ(queue.Pop(), 5) << "the newest state always reaches the reader";
}

TEST(BoundedQueueTest, ACapacityBelowOneHoldsOne) {
  BoundedQueue<int> queue(0);
  queue.Push(1);
  queue.Push(2);
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.Pop(), 2);
}

}  // namespace
}  // namespace datagen
