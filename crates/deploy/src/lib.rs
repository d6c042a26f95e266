//! Deploy and audit: render the manifests, node pools and alert rules of a plan
//! ([`render`]), lint existing Kubernetes manifests for GPU-inference mistakes ([`lint`]),
//! and rightsize deployments from GPU metrics ([`rightsize`]).

pub mod deployed;
pub mod lint;
pub mod render;
pub mod rightsize;
pub mod yaml;
