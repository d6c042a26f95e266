//! IL114 `mutable-image-tag`.

use super::super::{finding, Context, Finding, Rule, Severity};

/// Tags that are moved on purpose.
const FLOATING: [&str; 12] = [
    "latest", "main", "master", "nightly", "dev", "develop", "edge", "stable", "head", "rolling",
    "release", "current",
];

inferplan_plan::declare_rule! {
    /// **What it checks.** Every container and init container image of every workload. An image
    /// pinned by digest (`@sha256:...`) passes. Otherwise the tag must be present (no tag means
    /// `latest`) and must not be `latest`, `main`, `master`, `nightly`, `dev`, `develop`, `edge`,
    /// `stable`, `head`, `rolling`, `release` or `current`, or contain `latest` or `nightly`.
    ///
    /// **Why it matters.** A node pulls whatever the tag points to when it starts the pod. Replicas
    /// started on different days run different engine versions; a restart or a new node picks up a
    /// release with other defaults (memory use, scheduler limits, metric names) or a bug; rolling the
    /// manifest back does not roll the image back. Inference images are 8-20 GB ([C]), so
    /// `imagePullPolicy: Always` with a floating tag also slows every start. [C] recommends tagging
    /// images with the model and framework versions.
    ///
    /// **Example.**
    ///
    /// > Image `vllm/vllm-openai:latest` of container `vllm` uses the floating tag `latest`: replicas
    /// > started on different days run different versions, and a restart can pick up a breaking
    /// > release. Pin a version tag, better a digest (vllm/vllm-openai:<version>@sha256:...).
    ///
    /// **Fix.** Use a version tag and, for reproducible deployments, its digest
    /// (`vllm/vllm-openai:v0.8.5@sha256:...`); let a bot (Renovate, Dependabot) propose upgrades.
    pub struct MutableImageTag {
        code: "IL114",
        name: "mutable-image-tag",
        severity: Warning,
        summary: "container images need a version tag or digest, not latest or another floating tag",
        docs: "docs/lint.md#il114-mutable-image-tag",
    }
}

impl Rule for MutableImageTag {
    fn check(&self, ctx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for w in &ctx.workloads {
            for pod in &w.pods {
                for c in pod.containers.iter().chain(pod.init_containers.iter()) {
                    let Some(image) = &c.image else {
                        continue;
                    };
                    let img = image.value.trim();
                    if img.is_empty()
                        || img.contains("@sha256:")
                        || img.contains("{{")
                        || placeholder(img)
                    {
                        continue;
                    }
                    let (repo, tag) = split(img);
                    let problem = match tag {
                        None => "has no tag, which means `latest`".to_owned(),
                        Some(t) => {
                            let l = t.to_ascii_lowercase();
                            if FLOATING.contains(&l.as_str())
                                || l.contains("latest")
                                || l.contains("nightly")
                            {
                                format!("uses the floating tag `{t}`")
                            } else {
                                continue;
                            }
                        }
                    };
                    out.push(finding(
                        self,
                        Severity::Warning,
                        &w.object,
                        image.line,
                        format!(
                            "Image `{img}` of container `{}` {problem}: replicas started on \
                             different days run different versions, and a restart can pick up \
                             a breaking release. Pin a version tag, better a digest \
                             ({repo}:<version>@sha256:...).",
                            c.name
                        ),
                    ));
                }
            }
        }
        out
    }
}

/// A placeholder a tool or a person fills in before applying (`IMAGE_NAME`, `${IMAGE}`,
/// `$(IMAGE)`, `<image>`, `__IMAGE__`): not an image, so not a `latest` one.
fn placeholder(img: &str) -> bool {
    img.contains('$')
        || img.contains('<')
        || img.starts_with("__")
        || (img.chars().any(|c| c.is_ascii_uppercase())
            && img
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
}

/// `(repository, tag)` of an image reference without digest.
fn split(img: &str) -> (&str, Option<&str>) {
    let last_slash = img.rfind('/').map_or(0, |i| i + 1);
    match img[last_slash..].rfind(':') {
        Some(i) => (&img[..last_slash + i], Some(&img[last_slash + i + 1..])),
        None => (img, None),
    }
}
