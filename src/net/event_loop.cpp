#include "serval/net/event_loop.hpp"

#include "serval/async/cancel.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace serval::net {

namespace {
thread_local EventLoop* t_current = nullptr;
// Marks the eventfd in epoll_event.data.ptr; real handlers are never at this address.
char g_wake_tag;
}  // namespace

EventLoop::EventLoop() {
  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || wakefd_ < 0) throw std::runtime_error("serval: cannot create epoll/eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &g_wake_tag;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
}

EventLoop::~EventLoop() {
  if (wakefd_ >= 0) ::close(wakefd_);
  if (epfd_ >= 0) ::close(epfd_);
}

EventLoop* EventLoop::current() noexcept { return t_current; }

bool EventLoop::add(int fd, std::uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events | EPOLLET;
  ev.data.ptr = handler;
  return ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) { ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mu_);
    posted_.push_back(std::move(fn));
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wakefd_, &one, sizeof one);
}

void EventLoop::stop() {
  stopping_.store(true, std::memory_order_release);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wakefd_, &one, sizeof one);
}

EventLoop::TimerId EventLoop::add_timer(Clock::duration delay, std::function<void()> fn) {
  TimerId id = next_timer_++;
  timers_.push(Timer{Clock::now() + delay, id});
  timer_fns_.emplace_back(id, std::move(fn));  // ids grow, so the vector stays sorted
  return id;
}

void EventLoop::cancel_timer(TimerId id) {
  auto it = std::lower_bound(timer_fns_.begin(), timer_fns_.end(), id,
                             [](const auto& p, TimerId v) { return p.first < v; });
  if (it != timer_fns_.end() && it->first == id) timer_fns_.erase(it);
}

void EventLoop::run_due_timers() {
  while (!timers_.empty() && timers_.top().due <= now_) {
    TimerId id = timers_.top().id;
    timers_.pop();
    auto it = std::lower_bound(timer_fns_.begin(), timer_fns_.end(), id,
                               [](const auto& p, TimerId v) { return p.first < v; });
    if (it == timer_fns_.end() || it->first != id) continue;  // cancelled
    auto fn = std::move(it->second);
    timer_fns_.erase(it);
    fn();
  }
}

int EventLoop::next_timeout_ms() const {
  if (timers_.empty()) return 1000;
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(timers_.top().due - Clock::now()).count();
  if (d < 0) return 0;
  return static_cast<int>(std::min<long long>(d + 1, 1000));
}

void EventLoop::drain_posted() {
  {
    std::lock_guard lock(posted_mu_);
    running_.swap(posted_);
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

void EventLoop::run_once(int max_wait_ms) {
  EventLoop* previous = t_current;
  t_current = this;
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  int n = ::epoll_wait(epfd_, events, kMaxEvents, std::min(max_wait_ms, next_timeout_ms()));
  now_ = Clock::now();
  bool woke = false;
  for (int i = 0; i < n; ++i) {
    if (events[i].data.ptr == &g_wake_tag) {
      std::uint64_t v;
      [[maybe_unused]] auto r = ::read(wakefd_, &v, sizeof v);
      woke = true;
      continue;
    }
    static_cast<IoHandler*>(events[i].data.ptr)->on_io(events[i].events);
  }
  if (woke) drain_posted();
  run_due_timers();
  t_current = previous;
}

bool EventLoop::idle() const noexcept {
  std::lock_guard lock(posted_mu_);
  return timer_fns_.empty() && posted_.empty();
}

void EventLoop::run() {
  while (!stopping_.load(std::memory_order_acquire)) run_once(1000);
  EventLoop* previous = t_current;
  t_current = this;
  drain_posted();
  t_current = previous;
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> h) const {
  EventLoop* loop = EventLoop::current();
  if (loop == nullptr) throw std::logic_error("serval::sleep_for awaited outside an event loop");
  CancelScope* scope = CancelScope::current();
  auto id = loop->add_timer(delay, [h, scope] {
    if (scope != nullptr) scope->clear();
    CancelScope::Enter enter(scope);
    h.resume();
  });
  if (scope != nullptr) scope->on_cancel([loop, id] { loop->cancel_timer(id); });
}

}  // namespace serval::net
