// Typed endpoints: turns a handler's signature into request extraction, validation, a response,
// and the operation's OpenAPI description. Used by App::get/post/...; users never call it directly.
//
// A handler parameter is one of:
//   serval::Path<T, "name">, serval::Query<T, "name">, serval::Header<T, "name">  (params.hpp)
//   a described struct (serval::schema<T>) or serval::Body<T>                      the JSON body
//   serval::File<"name">, serval::Form<T, "name">, serval::RawBody<"type/sub">    a form / raw body (upload.hpp)
//   const serval::http::Request&                                                   the raw request
//   const serval::Principal&            the authenticated caller (401 when no auth step set one)
// Its return type is one of:
//   a JSON value type (described struct, string, number, vector, map, optional...)   200 + JSON
//   serval::Reply<T>  (a JSON body with its own status and headers)
//   serval::http::Response, serval::EventStream, serval::Stream, void (-> JSON null)
//   serval::Task<any of the above>  for coroutines.
#pragma once

#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "serval/app/context.hpp"
#include "serval/app/dependency.hpp"
#include "serval/app/errors.hpp"
#include "serval/app/json.hpp"
#include "serval/app/json_schema.hpp"
#include "serval/app/params.hpp"
#include "serval/app/route_doc.hpp"
#include "serval/app/schema.hpp"
#include "serval/app/security/principal.hpp"
#include "serval/app/stream.hpp"
#include "serval/app/upload.hpp"
#include "serval/app/validation.hpp"
#include "serval/async/task.hpp"
#include "serval/http/connection.hpp"
#include "serval/http/request.hpp"
#include "serval/http/response.hpp"

namespace serval {

// A JSON body with a status and headers chosen at run time.
template <class T>
struct Reply {
  T body;
  int status = 0;  // 0: the route's status
  std::vector<std::pair<std::string, std::string>> headers;
};

using RouteHandler = std::function<http::HandlerOutcome(http::Request&)>;

namespace detail {

template <class>
inline constexpr bool kAlwaysFalse = false;

// --- what a callable takes and returns ---------------------------------------------------------
template <class F>
struct fn_traits : fn_traits<decltype(&std::remove_cvref_t<F>::operator())> {};
template <class R, class... A>
struct fn_traits<R (*)(A...)> {
  using ret = R;
  using args = std::tuple<A...>;
};
template <class R, class... A>
struct fn_traits<R (*)(A...) noexcept> : fn_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct fn_traits<R (C::*)(A...) const> : fn_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct fn_traits<R (C::*)(A...) const noexcept> : fn_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct fn_traits<R (C::*)(A...)> : fn_traits<R (*)(A...)> {};
template <class C, class R, class... A>
struct fn_traits<R (C::*)(A...) noexcept> : fn_traits<R (*)(A...)> {};

template <class F>
concept SimpleCallable = requires { &std::remove_cvref_t<F>::operator(); } || std::is_function_v<std::remove_pointer_t<std::remove_cvref_t<F>>>;

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {
  using value_type = T;
};
template <class T>
struct is_reply : std::false_type {};
template <class T>
struct is_reply<Reply<T>> : std::true_type {};

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// --- arguments ---------------------------------------------------------------------------------
void add_missing(ValidationErrors& errs, std::string_view source, std::string_view name);
bool body_is_json(const http::Request& req, ValidationErrors& errs);

template <class A, class D = std::remove_cvref_t<A>>
struct Arg {
  static_assert(kAlwaysFalse<A>,
                "serval: unsupported handler parameter type. Use serval::Path<T, \"name\">, serval::Query<T, \"name\">, "
                "serval::Header<T, \"name\">, a body struct described with serval::schema<T>, serval::Body<T>, "
                "or const serval::http::Request&.");
};

template <class A>
struct Arg<A, http::Request> {
  using stored = http::Request*;
  static constexpr bool kIsBody = false, kIsInput = false;
  static void extract(http::Request& req, stored& s, ValidationErrors&) { s = &req; }
  static http::Request& get(stored& s) { return *s; }
  static void document(RouteDoc&) {}
};

template <class A>
struct Arg<A, Context> {
  static_assert(std::is_lvalue_reference_v<A>, "serval: take the request context by reference: serval::Context&");
  using stored = Context*;
  static constexpr bool kIsBody = false, kIsInput = false;
  static void extract(http::Request& req, stored& s, ValidationErrors&) { s = static_cast<Context*>(req.context); }
  static Context& get(stored& s) { return *s; }
  static void document(RouteDoc&) {}
};

template <class A>
struct Arg<A, BackgroundTasks> {
  using stored = BackgroundTasks*;
  static constexpr bool kIsBody = false, kIsInput = false;
  static void extract(http::Request& req, stored& s, ValidationErrors&) {
    // Lives in the Context, which outlives the handler.
    auto* ctx = static_cast<Context*>(req.context);
    s = ctx->find<BackgroundTasks>();
    if (s == nullptr) s = &ctx->emplace<BackgroundTasks>(*ctx);
  }
  static BackgroundTasks& get(stored& s) { return *s; }
  static void document(RouteDoc&) {}
};

// The authenticated caller (see security/principal.hpp), set by an authentication middleware.
// Without one the request is answered 401: the route forgot its guard, so fail closed.
template <class A>
struct Arg<A, Principal> {
  static_assert(!std::is_lvalue_reference_v<A> || std::is_const_v<std::remove_reference_t<A>>,
                "serval: take the principal as const serval::Principal&");
  using stored = const Principal*;
  static constexpr bool kIsBody = false, kIsInput = false;
  static void extract(http::Request& req, stored& s, ValidationErrors&) {
    s = static_cast<Context*>(req.context)->find<Principal>();
    if (s == nullptr) throw HttpError(401, "Not authenticated");
  }
  static const Principal& get(stored& s) { return *s; }
  static void document(RouteDoc& doc) {
    for (const auto& r : doc.info.responses)
      if (r.first == 401) return;
    doc.info.responses.emplace_back(401, "Not authenticated");
  }
};

// The provider registered for `key` (or throws std::logic_error naming the type), and the value it
// builds for this request (nullptr after validation errors). Defined in app.cpp.
Provider& provider_for(Context& ctx, const void* key, std::string_view type_name);
std::shared_ptr<void> build_dependency(Provider& provider, http::Request& req, ValidationErrors& errs);

template <class A, class T>
struct Arg<A, Dep<T>> {
  using stored = Dep<T>;
  static constexpr bool kIsBody = false, kIsInput = true;
  static void extract(http::Request& req, stored& s, ValidationErrors& errs) {
    auto* ctx = static_cast<Context*>(req.context);
    if (T* cached = ctx->find<T>()) {  // built earlier in this request, or put there by middleware
      s.ptr = cached;
      return;
    }
    Provider& p = provider_for(*ctx, &kTypeKey<T>, kShortTypeName<T>.view());
    std::shared_ptr<void> v = build_dependency(p, req, errs);
    if (!v) return;
    s.ptr = static_cast<T*>(v.get());
    if (p.scope == DependencyScope::kRequest) ctx->put_shared<T>(std::static_pointer_cast<T>(std::move(v)));
  }
  static Dep<T>& get(stored& s) { return s; }
  static void document(RouteDoc& doc) { doc.dependencies.push_back(&kTypeKey<T>); }
};

template <class A, class T, ParamSource S, Name N, Rules R>
struct Arg<A, Param<T, S, N, R>> {
  using P = Param<T, S, N, R>;
  using stored = P;
  static constexpr bool kIsBody = false, kIsInput = true;
  static constexpr std::string_view source() {
    return S == ParamSource::kPath ? "path" : S == ParamSource::kQuery ? "query" : "header";
  }
  static void extract(http::Request& req, stored& s, ValidationErrors& errs) {
    std::string text;
    bool present = false;
    if constexpr (S == ParamSource::kPath) {
      std::string_view raw = req.path_param(P::kName);
      present = true;
      if (!http::percent_decode(raw, text)) text.assign(raw);
    } else if constexpr (S == ParamSource::kQuery) {
      present = http::query_param(req.query, P::kName, text);
    } else {
      present = req.has_header(P::kName);
      if (present) text.assign(req.header(P::kName));
    }
    if (!present) {
      if (!is_optional<T>::value && !R.is_optional) add_missing(errs, source(), P::kName);
      return;
    }
    std::vector<LocItem> loc{std::string(source()), std::string(P::kName)};
    from_text(std::string_view(text), s.value, R, loc, errs);
  }
  static P& get(stored& s) { return s; }
  static void document(RouteDoc& doc) {
    ParamDoc p;
    p.in = S == ParamSource::kPath ? "path" : S == ParamSource::kQuery ? "query" : "header";
    p.name = std::string(P::kName);
    p.required = S == ParamSource::kPath || (!is_optional<T>::value && !R.is_optional);
    p.description = std::string(R.description.view());
    p.deprecated = R.is_deprecated;
    p.schema = [](SchemaRegistry& reg) { return reg.template schema_for<T>(R); };
    doc.params.push_back(std::move(p));
  }
};

template <class T>
struct BodyArg {
  using stored = T;
  static constexpr bool kIsBody = true, kIsInput = true;
  static void extract(http::Request& req, stored& s, ValidationErrors& errs) {
    if (!body_is_json(req, errs)) return;
    parse_json_body(req.body, s, errs);
  }
  static void document(RouteDoc& doc) {
    doc.body_schema = [](SchemaRegistry& reg) { return reg.template schema_for<T>(); };
  }
};

template <class A, class T>
struct Arg<A, Body<T>> : BodyArg<Body<T>> {
  static void extract(http::Request& req, Body<T>& s, ValidationErrors& errs) { BodyArg<T>::extract(req, s.value, errs); }
  static Body<T>& get(Body<T>& s) { return s; }
  static void document(RouteDoc& doc) { BodyArg<T>::document(doc); }
};

template <class A, class D>
  requires Described<D>
struct Arg<A, D> : BodyArg<D> {
  static D& get(D& s) { return s; }
};

// File<>/Form<> parameters: fields of the form body (multipart/form-data or urlencoded).
template <class A, class V, Name N, Rules R>
struct Arg<A, FileParam<V, N, R>> {
  using P = FileParam<V, N, R>;
  using stored = P;
  static constexpr bool kIsBody = false, kIsInput = true, kIsForm = true;
  static constexpr bool kMany = kIsVector<V>, kNullable = is_optional<V>::value;
  static constexpr bool kRequired = !kNullable && !R.is_optional;
  static_assert(std::is_same_v<V, UploadFile> || kMany || kNullable, "serval: use serval::File, OptionalFile or Files");
  static void extract(http::Request& req, stored& s, ValidationErrors& errs) {
    const FormData& form = form_data(req);
    if constexpr (kMany) {
      const std::vector<const MultipartPart*> parts = form_find_all(form, P::kName);
      if (parts.empty() && kRequired) add_missing(errs, "body", P::kName);
      s.value.resize(parts.size());
      for (std::size_t i = 0; i < parts.size(); ++i)
        read_upload(*parts[i], {std::string("body"), std::string(P::kName), static_cast<std::int64_t>(i)}, s.value[i],
                    errs);
    } else {
      const MultipartPart* part = form_find(form, P::kName);
      if (part == nullptr) {
        if (kRequired) add_missing(errs, "body", P::kName);
        return;
      }
      if constexpr (kNullable) {
        read_upload(*part, {std::string("body"), std::string(P::kName)}, s.value.emplace(), errs);
      } else {
        read_upload(*part, {std::string("body"), std::string(P::kName)}, s.value, errs);
      }
    }
  }
  static P& get(stored& s) { return s; }
  static void document(RouteDoc& doc) {
    doc.form_fields.push_back(file_field_doc(P::kName, kRequired, kMany, kNullable, R));
  }
};

template <class A, class T, Name N, Rules R>
struct Arg<A, FormParam<T, N, R>> {
  using P = FormParam<T, N, R>;
  using stored = P;
  static constexpr bool kIsBody = false, kIsInput = true, kIsForm = true;
  static void extract(http::Request& req, stored& s, ValidationErrors& errs) {
    const MultipartPart* part = form_find(form_data(req), P::kName);
    if (part == nullptr) {
      if (!is_optional<T>::value && !R.is_optional) add_missing(errs, "body", P::kName);
      return;
    }
    std::vector<LocItem> loc{std::string("body"), std::string(P::kName)};
    from_text(part->data, s.value, R, loc, errs);
  }
  static P& get(stored& s) { return s; }
  static void document(RouteDoc& doc) {
    FormFieldDoc f;
    f.name = std::string(P::kName);
    f.required = !is_optional<T>::value && !R.is_optional;
    f.description = std::string(R.description.view());
    f.deprecated = R.is_deprecated;
    f.schema = [](SchemaRegistry& reg) { return reg.template schema_for<T>(R); };
    doc.form_fields.push_back(std::move(f));
  }
};

template <class A, Name... M>
struct Arg<A, RawBody<M...>> {
  using stored = RawBody<M...>;
  static constexpr bool kIsBody = true, kIsInput = true;
  static void extract(http::Request& req, stored& s, ValidationErrors& errs) {
    check_raw_body(req, stored::kMediaTypes.data(), stored::kMediaTypes.size(), errs);
    s.content_type = req.header("content-type");
    s.data = req.body;
  }
  static stored& get(stored& s) { return s; }
  static void document(RouteDoc& doc) {
    doc.body_media_types.clear();
    for (std::string_view m : stored::kMediaTypes) doc.body_media_types.emplace_back(m);
    if (doc.body_media_types.empty()) {
      doc.body_media_types.emplace_back("application/octet-stream");
    } else {
      doc.info.responses.emplace_back(415, "Unsupported Media Type");
    }
  }
};

template <class A>
constexpr bool is_form_arg() {
  if constexpr (requires { Arg<A>::kIsForm; }) {
    return Arg<A>::kIsForm;
  } else {
    return false;
  }
}

// --- results -----------------------------------------------------------------------------------
template <class R>
http::Response make_response(R&& r, int status) {
  using D = std::remove_cvref_t<R>;
  if constexpr (std::is_same_v<D, http::Response>) {
    return std::forward<R>(r);
  } else if constexpr (std::is_same_v<D, EventStream> || std::is_same_v<D, Stream>) {
    http::Response resp = std::move(r).into_response();
    resp.status = status;
    return resp;
  } else if constexpr (is_reply<D>::value) {
    http::Response resp = make_response(std::move(r.body), r.status != 0 ? r.status : status);
    for (auto& h : r.headers) resp.headers.push_back(std::move(h));
    return resp;
  } else {
    static_assert(JsonValueType<D>,
                  "serval: unsupported handler return type. Return a JSON value type (a struct described with "
                  "serval::schema<T>, string, number, bool, vector, map, optional), serval::Reply<T>, "
                  "serval::http::Response, serval::EventStream, serval::Stream, void, or serval::Task<one of these>.");
    http::Response resp;
    resp.status = status;
    resp.body.reserve(128);
    to_json(resp.body, r);
    return resp;
  }
}

template <class R>
void document_result(RouteDoc& doc) {
  using D = std::remove_cvref_t<R>;
  if constexpr (is_task<D>::value) {
    document_result<typename is_task<D>::value_type>(doc);
  } else if constexpr (std::is_void_v<D> || std::is_same_v<D, http::Response>) {
    doc.response_schema = nullptr;
  } else if constexpr (std::is_same_v<D, EventStream>) {
    doc.response_content_type = "text/event-stream";
  } else if constexpr (std::is_same_v<D, Stream>) {
    doc.response_content_type = "application/octet-stream";
  } else if constexpr (is_reply<D>::value) {
    document_result<decltype(std::declval<D>().body)>(doc);
  } else {
    doc.response_schema = [](SchemaRegistry& reg) { return reg.template schema_for<D>(); };
  }
}

http::Response validation_failed(const ValidationErrors& errs);

template <class F, class Ret, class... A, std::size_t... I>
Task<http::Response> run_async(const F& f, std::tuple<typename Arg<A>::stored...> st, int status,
                               std::index_sequence<I...>) {
  // The stored arguments live in this frame, so a handler taking `const Body&` stays valid.
  if constexpr (std::is_void_v<typename is_task<Ret>::value_type>) {
    co_await std::invoke(f, Arg<A>::get(std::get<I>(st))...);
    co_return http::Response::json(status, "null");
  } else {
    co_return make_response(co_await std::invoke(f, Arg<A>::get(std::get<I>(st))...), status);
  }
}

template <class F, class Ret, class... A, std::size_t... I>
RouteHandler bind_impl(F f, RouteDoc& doc, std::index_sequence<I...> seq) {
  static_assert((0 + ... + (Arg<A>::kIsBody ? 1 : 0)) <= 1, "serval: a handler can take at most one JSON body parameter");
  static_assert((0 + ... + (Arg<A>::kIsBody ? 1 : 0)) == 0 || !(false || ... || is_form_arg<A>()),
                "serval: a handler cannot take both a body (a JSON struct, Body<T> or RawBody) and File/Form "
                "parameters: the request body is either JSON, raw bytes or a form");
  (Arg<A>::document(doc), ...);
  doc.validates = (false || ... || Arg<A>::kIsInput);
  document_result<Ret>(doc);
  int status = doc.info.status;
  return [f = std::move(f), status, seq](http::Request& req) -> http::HandlerOutcome {
    std::tuple<typename Arg<A>::stored...> st;
    if constexpr (sizeof...(A) > 0) {
      ValidationErrors errs;
      (Arg<A>::extract(req, std::get<I>(st), errs), ...);
      if (!errs.empty()) return validation_failed(errs);
    }
    if constexpr (is_task<Ret>::value) {
      return run_async<F, Ret, A...>(f, std::move(st), status, seq);
    } else if constexpr (std::is_void_v<Ret>) {
      std::invoke(f, Arg<A>::get(std::get<I>(st))...);
      return http::Response::json(status, "null");
    } else {
      return make_response(std::invoke(f, Arg<A>::get(std::get<I>(st))...), status);
    }
  };
}

template <class F, class Ret, class Tuple>
struct Binder;
template <class F, class Ret, class... A>
struct Binder<F, Ret, std::tuple<A...>> {
  static RouteHandler bind(F f, RouteDoc& doc) {
    return bind_impl<F, Ret, A...>(std::move(f), doc, std::index_sequence_for<A...>{});
  }
};

template <class T>
struct is_shared_ptr : std::false_type {};
template <class T>
struct is_shared_ptr<std::shared_ptr<T>> : std::true_type {};

template <class T, class F, class Ret, class Tuple>
struct ProviderBinder;
template <class T, class F, class Ret, class... A>
struct ProviderBinder<T, F, Ret, std::tuple<A...>> {
  static_assert((0 + ... + (Arg<A>::kIsBody ? 1 : 0)) == 0,
                "serval: a dependency provider cannot read the JSON body; take the body in the handler");
  static_assert(!(false || ... || is_form_arg<A>()),
                "serval: a dependency provider cannot read File/Form parameters; take them in the handler");
  static_assert(is_shared_ptr<Ret>::value || std::is_constructible_v<T, Ret>,
                "serval: a provider for T must return T (or something T is built from) or std::shared_ptr<T>");

  template <std::size_t... I>
  static std::shared_ptr<void> call(const F& f, http::Request& req, ValidationErrors& errs, std::index_sequence<I...>) {
    std::tuple<typename Arg<A>::stored...> st;
    std::size_t before = errs.size();
    (Arg<A>::extract(req, std::get<I>(st), errs), ...);
    if (errs.size() != before) return nullptr;
    if constexpr (is_shared_ptr<Ret>::value) {
      return std::static_pointer_cast<void>(std::invoke(f, Arg<A>::get(std::get<I>(st))...));
    } else {
      return std::make_shared<T>(std::invoke(f, Arg<A>::get(std::get<I>(st))...));
    }
  }

  static std::shared_ptr<Provider> bind(F f, DependencyScope scope) {
    auto p = std::make_shared<Provider>();
    p->scope = scope;
    p->type_name = std::string(kShortTypeName<T>.view());
    RouteDoc doc;
    (Arg<A>::document(doc), ...);
    p->params = std::move(doc.params);
    p->deps = std::move(doc.dependencies);
    p->make = [f = std::move(f)](http::Request& req, ValidationErrors& errs) {
      return call(f, req, errs, std::index_sequence_for<A...>{});
    };
    return p;
  }
};

}  // namespace detail

// A Provider for T from a factory function (see dependency.hpp).
template <class T, class F>
std::shared_ptr<Provider> make_provider(F f, DependencyScope scope) {
  static_assert(detail::SimpleCallable<F>, "serval: a provider must be a function or a non-generic lambda");
  using traits = detail::fn_traits<F>;
  return detail::ProviderBinder<T, F, typename traits::ret, typename traits::args>::bind(std::move(f), scope);
}

// Builds the request handler for `f` and fills `doc` from its signature.
template <class F>
RouteHandler bind_endpoint(F f, RouteDoc& doc) {
  static_assert(detail::SimpleCallable<F>,
                "serval: a handler must be a function or a non-generic lambda (no `auto` parameters), so that "
                "serval can read its parameter types");
  using traits = detail::fn_traits<F>;
  return detail::Binder<F, typename traits::ret, typename traits::args>::bind(std::move(f), doc);
}

}  // namespace serval
