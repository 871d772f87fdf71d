// Copyright 2026 Google LLC
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     https://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! Re-exports symbols from [tonic].
//!
//! [tonic]: https://docs.rs/tonic

pub use ::tonic::Code;
pub use ::tonic::Extensions;
pub use ::tonic::GrpcMethod;
pub use ::tonic::Response;
pub use ::tonic::Result;
pub use ::tonic::Status;
pub use ::tonic::Streaming;
pub use ::tonic::metadata::MetadataMap;
pub use ::tonic::transport;
