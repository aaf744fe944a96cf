#pragma once
#include <napi.h>

#include <string>

namespace int8detect {

// A received JavaScript value, described for "Expected X for Y but received Z" messages in the
// same words as lib/util/errors.ts describeValue: never the contents of a buffer, only its kind and size.
std::string DescribeValue(const Napi::Value& value);

}  // namespace int8detect
