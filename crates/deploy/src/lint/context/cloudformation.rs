//! CloudFormation templates (YAML with short-form tags, or JSON) as lint reads them: the
//! resources by logical id, what an intrinsic function refers to inside the same template,
//! and the SageMaker endpoints with their endpoint config, model, scalable targets, scaling
//! policies and alarms.
//!
//! Short-form tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) arrive in their long form
//! (`{Ref: X}`, `{"Fn::GetAtt": ...}`): [`crate::yaml::parse`] rewrites them. A value that
//! is an intrinsic function lint cannot evaluate (a parameter, an import, a condition) is
//! [`Eval::Opaque`], and the rules that need it say so instead of guessing.

use super::Object;
use crate::yaml::{Node, Value};

/// One template: a document with a `Resources` mapping of `AWS::` types.
#[derive(Debug, Clone)]
pub struct Template<'a> {
    /// File.
    pub file: &'a str,
    /// Resources in file order.
    pub resources: Vec<Resource<'a>>,
}

/// One resource.
#[derive(Debug, Clone)]
pub struct Resource<'a> {
    /// Logical id.
    pub id: String,
    /// `Type`.
    pub kind: String,
    /// Line of its logical id.
    pub line: usize,
    /// The resource (`Type`, `Properties`, ...).
    pub node: &'a Node,
    /// File.
    pub file: &'a str,
}

impl<'a> Resource<'a> {
    /// `Properties` (an empty node when missing).
    pub fn props(&self) -> &'a Node {
        self.node.at("Properties")
    }

    /// The line of property path `keys`, or of the resource.
    pub fn line_of(&self, keys: &[&str]) -> usize {
        let mut n = self.props();
        let mut line = self.line;
        for k in keys {
            match n.entry(k) {
                Some(e) => {
                    line = e.line;
                    n = &e.value;
                }
                None => break,
            }
        }
        line
    }

    /// As a lint object: `Type/LogicalId`.
    pub fn object(&self) -> Object<'a> {
        Object {
            file: self.file,
            template: None,
            api_version: String::new(),
            kind: self.kind.clone(),
            name: self.id.clone(),
            namespace: String::new(),
            line: self.line,
            node: self.node,
        }
    }
}

/// What a template value evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub enum Eval<T> {
    /// A literal.
    Value(T),
    /// `Ref` or `Fn::GetAtt` of a resource of the same template (its logical id).
    Resource(String),
    /// An intrinsic function lint does not evaluate, shown as written (`Ref RoleParam`).
    Opaque(String),
    /// Not set.
    Missing,
}

/// The intrinsic function of a node, as `(key, argument)`, when it is one.
fn function(n: &Node) -> Option<(&str, &Node)> {
    match &n.value {
        Value::Map(es) if es.len() == 1 => {
            let e = &es[0];
            (e.key == "Ref" || e.key == "Condition" || e.key.starts_with("Fn::"))
                .then_some((e.key.as_str(), &e.value))
        }
        _ => None,
    }
}

/// `Ref X`, `Fn::Sub ...` as shown in messages.
fn show(key: &str, arg: &Node) -> String {
    let short = key.trim_start_matches("Fn::");
    match arg.text() {
        Some(t) => format!("!{short} {t}"),
        None => format!("!{short} ..."),
    }
}

impl<'a> Template<'a> {
    /// The template in `doc`, when it is one (a `Resources` mapping whose entries have an
    /// `AWS::` or `Custom::` `Type`).
    pub fn read(file: &'a str, doc: &'a Node) -> Option<Template<'a>> {
        let res = doc.get("Resources")?;
        if !res.is_map() {
            return None;
        }
        let resources: Vec<Resource<'a>> = res
            .entries()
            .iter()
            .filter_map(|e| {
                let kind = e.value.get("Type")?.as_str()?.to_owned();
                Some(Resource {
                    id: e.key.clone(),
                    kind,
                    line: e.line,
                    node: &e.value,
                    file,
                })
            })
            .collect();
        let cfn = resources
            .iter()
            .any(|r| r.kind.starts_with("AWS::") || r.kind.starts_with("Custom::"));
        (cfn && (doc.get("AWSTemplateFormatVersion").is_some() || !resources.is_empty()))
            .then_some(Template { file, resources })
    }

    /// Resources of one type.
    pub fn of_kind<'t, 'k>(
        &'t self,
        kind: &'k str,
    ) -> impl Iterator<Item = &'t Resource<'a>> + use<'t, 'k, 'a> {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    /// A resource by logical id.
    pub fn get(&self, id: &str) -> Option<&Resource<'a>> {
        self.resources.iter().find(|r| r.id == id)
    }

    /// A string value: a literal, a reference to a resource of this template, or opaque.
    pub fn string(&self, n: Option<&Node>) -> Eval<String> {
        let Some(n) = n else {
            return Eval::Missing;
        };
        match function(n) {
            None => n.text().map_or(Eval::Missing, Eval::Value),
            Some(("Ref", arg)) => match arg.as_str() {
                Some(id) if self.get(id).is_some() => Eval::Resource(id.to_owned()),
                _ => Eval::Opaque(show("Ref", arg)),
            },
            Some(("Fn::GetAtt", arg)) => {
                let id = match &arg.value {
                    Value::Seq(items) => items.first().and_then(Node::text),
                    Value::Str(s) => s.split('.').next().map(str::to_owned),
                    _ => None,
                };
                match id {
                    Some(id) if self.get(&id).is_some() => Eval::Resource(id),
                    _ => Eval::Opaque(show("GetAtt", arg)),
                }
            }
            Some((key, arg)) => Eval::Opaque(show(key, arg)),
        }
    }

    /// An integer value (a literal, or opaque).
    pub fn int(&self, n: Option<&Node>) -> Eval<i64> {
        let Some(n) = n else {
            return Eval::Missing;
        };
        if let Some((key, arg)) = function(n) {
            return Eval::Opaque(show(key, arg));
        }
        n.as_i64()
            .or_else(|| n.text().and_then(|t| t.trim().parse().ok()))
            .map_or(Eval::Missing, Eval::Value)
    }

    /// The resource of `kind` a value names: by `Ref`/`Fn::GetAtt`, or by a literal equal to
    /// its `name_property`. `Err` carries the opaque expression.
    pub fn resolve(
        &self,
        n: Option<&Node>,
        kind: &str,
        name_property: &str,
    ) -> Result<Option<&Resource<'a>>, String> {
        match self.string(n) {
            Eval::Resource(id) => Ok(self.get(&id).filter(|r| r.kind == kind)),
            Eval::Value(name) => Ok(self
                .of_kind(kind)
                .find(|r| r.props().get(name_property).and_then(Node::text) == Some(name.clone()))),
            Eval::Opaque(s) => Err(s),
            Eval::Missing => Ok(None),
        }
    }

    /// Whether a `ResourceId` of Application Auto Scaling names `endpoint`: a literal
    /// `endpoint/<name>/variant/...`, or a `Fn::Sub`/`Fn::Join` that refers to the endpoint
    /// resource or spells its name. `Err` when it cannot be told.
    pub fn names_endpoint(
        &self,
        resource_id: &Node,
        endpoint: &Resource<'a>,
    ) -> Result<bool, String> {
        let literal = endpoint
            .props()
            .get("EndpointName")
            .filter(|n| function(n).is_none())
            .and_then(Node::text);
        let prefix = |s: &str| -> Option<String> {
            s.strip_prefix("endpoint/")
                .and_then(|r| r.split('/').next())
                .map(str::to_owned)
        };
        match function(resource_id) {
            None => {
                let text = resource_id.text().unwrap_or_default();
                Ok(literal.is_some() && prefix(&text) == literal)
            }
            Some(("Fn::Sub", arg)) => {
                let text = match &arg.value {
                    Value::Seq(items) => items.first().and_then(Node::text),
                    _ => arg.text(),
                }
                .unwrap_or_default();
                if text.contains(&format!("${{{}}}", endpoint.id))
                    || text.contains(&format!("${{{}.", endpoint.id))
                {
                    return Ok(true);
                }
                match prefix(&text) {
                    Some(p) if !p.contains("${") => Ok(literal.is_some_and(|l| l == p)),
                    _ => Err(show("Sub", arg)),
                }
            }
            Some(("Fn::Join", arg)) => {
                let delimiter = arg.items().first().and_then(Node::text).unwrap_or_default();
                let parts = arg.items().get(1).map(Node::items).unwrap_or_default();
                let mut words = Vec::new();
                for p in parts {
                    match self.string(Some(p)) {
                        Eval::Resource(id) if id == endpoint.id => return Ok(true),
                        Eval::Value(v) => words.push(v),
                        _ => return Err(show("Join", arg)),
                    }
                }
                Ok(literal.is_some() && prefix(&words.join(&delimiter)) == literal)
            }
            Some((key, arg)) => Err(show(key, arg)),
        }
    }
}

/// A SageMaker endpoint of a template and what it is built from.
#[derive(Debug, Clone)]
pub struct SageMakerEndpoint<'t, 'a> {
    /// The template.
    pub template: &'t Template<'a>,
    /// `AWS::SageMaker::Endpoint`.
    pub endpoint: &'t Resource<'a>,
    /// Its `AWS::SageMaker::EndpointConfig`, or why it cannot be found.
    pub config: Result<Option<&'t Resource<'a>>, String>,
}

/// Application Auto Scaling attached to an endpoint.
#[derive(Debug, Clone, Default)]
pub struct Scaling<'t, 'a> {
    /// Scalable targets of the endpoint.
    pub targets: Vec<&'t Resource<'a>>,
    /// Scaling policies of those targets.
    pub policies: Vec<&'t Resource<'a>>,
    /// Targets or policies whose link to an endpoint is not evaluable (what was written).
    pub opaque: Vec<String>,
}

impl<'t, 'a> SageMakerEndpoint<'t, 'a> {
    /// Every SageMaker endpoint of a template.
    pub fn all(t: &'t Template<'a>) -> Vec<SageMakerEndpoint<'t, 'a>> {
        t.of_kind("AWS::SageMaker::Endpoint")
            .map(|endpoint| SageMakerEndpoint {
                template: t,
                endpoint,
                config: t.resolve(
                    endpoint.props().get("EndpointConfigName"),
                    "AWS::SageMaker::EndpointConfig",
                    "EndpointConfigName",
                ),
            })
            .collect()
    }

    /// True when its config has an `AsyncInferenceConfig`.
    pub fn is_async(&self) -> bool {
        matches!(self.config, Ok(Some(c)) if c.props().get("AsyncInferenceConfig").is_some())
    }

    /// The production variants of its config.
    pub fn variants(&self) -> &'a [Node] {
        match self.config {
            Ok(Some(c)) => c.props().at("ProductionVariants").items(),
            _ => &[],
        }
    }

    /// The model of a variant, or why it cannot be found.
    pub fn model(&self, variant: &Node) -> Result<Option<&'t Resource<'a>>, String> {
        self.template.resolve(
            variant.get("ModelName"),
            "AWS::SageMaker::Model",
            "ModelName",
        )
    }

    /// Its scalable targets and their policies.
    pub fn scaling(&self) -> Scaling<'t, 'a> {
        let t = self.template;
        let mut s = Scaling::default();
        for target in t.of_kind("AWS::ApplicationAutoScaling::ScalableTarget") {
            let p = target.props();
            if p.get("ServiceNamespace").and_then(Node::as_str) != Some("sagemaker") {
                continue;
            }
            match p
                .get("ResourceId")
                .map(|r| t.names_endpoint(r, self.endpoint))
            {
                Some(Ok(true)) => s.targets.push(target),
                Some(Err(expr)) => s
                    .opaque
                    .push(format!("{} has ResourceId `{expr}`", target.id)),
                _ => {}
            }
        }
        for policy in t.of_kind("AWS::ApplicationAutoScaling::ScalingPolicy") {
            let p = policy.props();
            let linked = match t.string(p.get("ScalingTargetId")) {
                Eval::Resource(id) => s.targets.iter().any(|x| x.id == id),
                Eval::Opaque(expr) => {
                    s.opaque
                        .push(format!("{} has ScalingTargetId `{expr}`", policy.id));
                    false
                }
                _ => match p
                    .get("ResourceId")
                    .map(|r| t.names_endpoint(r, self.endpoint))
                {
                    Some(Ok(yes)) => yes,
                    Some(Err(expr)) => {
                        s.opaque
                            .push(format!("{} has ResourceId `{expr}`", policy.id));
                        false
                    }
                    None => false,
                },
            };
            if linked {
                s.policies.push(policy);
            }
        }
        s
    }

    /// The alarms whose actions run `policy`.
    pub fn alarms_running(&self, policy: &Resource<'a>) -> Vec<&'t Resource<'a>> {
        let t = self.template;
        t.of_kind("AWS::CloudWatch::Alarm")
            .filter(|a| {
                a.props()
                    .at("AlarmActions")
                    .items()
                    .iter()
                    .any(|x| t.string(Some(x)) == Eval::Resource(policy.id.clone()))
            })
            .collect()
    }
}
