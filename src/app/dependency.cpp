#include "serval/app/dependency.hpp"

namespace serval {

void DependencyRegistry::add(const void* key, std::shared_ptr<Provider> provider) {
  providers_[key] = std::move(provider);
}

void DependencyRegistry::add_override(const void* key, std::shared_ptr<Provider> provider) {
  overrides_[key] = std::move(provider);
}

void DependencyRegistry::clear_overrides() { overrides_.clear(); }

Provider* DependencyRegistry::find(const void* key) const noexcept {
  if (auto it = overrides_.find(key); it != overrides_.end()) return it->second.get();
  if (auto it = providers_.find(key); it != providers_.end()) return it->second.get();
  return nullptr;
}

}  // namespace serval
