// The JavaScript handle of a native object (a compiled model, an engine, a statistics runner):
// a plain object with fields, methods that receive the live object, and dispose(). dispose()
// only drops the handle's reference: work in flight holds its own, so the object is freed after
// the last of it finishes; a call after dispose() throws ERR_DISPOSED with the handle's message.
#pragma once
#include <napi.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/native_error.h"

namespace int8detect {

template <typename T>
class Holder {
 public:
  explicit Holder(std::shared_ptr<T> value) : value_(std::move(value)) {}
  std::shared_ptr<T> Get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return value_;
  }
  void Dispose() {
    std::shared_ptr<T> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      dropped.swap(value_);
    }
    // `dropped` is released here, outside the lock: freeing a model may take a while.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<T> value_;
};

template <typename T>
class HandleBuilder {
 public:
  HandleBuilder(Napi::Env env, std::shared_ptr<T> value, std::string disposedMessage)
      : env_(env),
        object_(Napi::Object::New(env)),
        holder_(std::make_shared<Holder<T>>(std::move(value))),
        disposedMessage_(std::make_shared<const std::string>(std::move(disposedMessage))) {}

  // For plain fields: handle.object().Set("slots", ...).
  Napi::Object& object() { return object_; }

  // `method(info, live)` with `live` the held object; Napi::Value method(const Napi::CallbackInfo&, const std::shared_ptr<T>&).
  template <typename Fn>
  HandleBuilder& Method(const char* name, Fn method) {
    object_.Set(name, Napi::Function::New(
                          env_,
                          [holder = holder_, message = disposedMessage_, method](const Napi::CallbackInfo& info) -> Napi::Value {
                            const std::shared_ptr<T> live = holder->Get();
                            if (!live) ThrowNativeError(info.Env(), ErrorCode::kDisposed, *message);
                            return method(info, live);
                          },
                          name));
    return *this;
  }

  // Adds dispose() and returns the handle.
  Napi::Object Finish() {
    object_.Set("dispose", Napi::Function::New(
                               env_, [holder = holder_](const Napi::CallbackInfo& info) {
                                 holder->Dispose();
                                 return info.Env().Undefined();
                               },
                               "dispose"));
    return object_;
  }

 private:
  Napi::Env env_;
  Napi::Object object_;
  std::shared_ptr<Holder<T>> holder_;
  std::shared_ptr<const std::string> disposedMessage_;
};

}  // namespace int8detect
