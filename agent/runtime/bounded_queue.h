// A FIFO that holds at most a fixed number of items: when full, a new item pushes out the
// oldest. The queue of events a slow stream reader has not taken yet (agent.proto, Watch: "a
// reader that falls behind loses the oldest events, never the newest state").
//
// Not thread-safe: its owner (QueuedStream) guards it with its own lock.
#ifndef DATAGEN_AGENT_RUNTIME_BOUNDED_QUEUE_H_
#define DATAGEN_AGENT_RUNTIME_BOUNDED_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

namespace datagen {

template <typename Item>
class BoundedQueue {
 public:
  // `capacity` at least 1.
  explicit BoundedQueue(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

  // Appends `item`; when the queue was full, the oldest item is dropped first.
  void Push(Item item) {
    if (items_.size() >= capacity_) {
      items_.pop_front();
      ++dropped_;
    }
    items_.push_back(std::move(item));
  }
  // The oldest item, removed. Must not be empty.
  Item Pop() {
    Item item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  // How many items were pushed out so far.
  uint64_t dropped() const { return dropped_; }

 private:
  const size_t capacity_;
  std::deque<Item> items_;
  uint64_t dropped_ = 0;
};

}  // namespace datagen

#endif  // DATAGEN_AGENT_RUNTIME_BOUNDED_QUEUE_H_
