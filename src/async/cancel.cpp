#include "serval/async/cancel.hpp"

namespace serval {

namespace {
thread_local CancelScope* t_scope = nullptr;
}

CancelScope* CancelScope::current() noexcept { return t_scope; }

CancelScope::Enter::Enter(CancelScope* scope) noexcept : previous_(t_scope) { t_scope = scope; }
CancelScope::Enter::~Enter() { t_scope = previous_; }

}  // namespace serval
