//! `.tf` files evaluated as Terraform evaluates a configuration: the root
//! module and every module it calls, each instance of a `count`/`for_each`
//! resource or module call, with Terraform's own addresses
//! (`module.db.module.db_instance.aws_db_instance.this[0]`), so a `.tf`
//! audit and a plan audit of the same code name the same targets.
//!
//! - A module call's source is read from disk: a local path (`./modules/x`),
//!   or what `terraform init` downloaded, as `.terraform/modules/modules.json`
//!   maps it (key `db.db_instance` → folder). A call whose module is not on
//!   disk is listed as not read, with the command that fixes it.
//! - Call arguments bind the module's variables (the variable's `default`
//!   where the call passes nothing); `module.NAME.OUTPUT` is the child's
//!   output; `TYPE.NAME.ATTR` is another resource's written attribute.
//! - `count = 0` or an empty `for_each` plans nothing; a count or key set
//!   that only a plan knows keeps the resource, its existence unknown
//!   (recorded as the unresolved attribute `count` / `for_each`).
//!
//! References resolve in passes (a value may depend on a resource or output
//! defined later), until a pass resolves nothing more. Whatever stays
//! unresolved is recorded with its expression, never guessed.

use super::functions;
use super::load::{LoadError, parse};
use super::model::{Resource, Skipped};
use hcl::eval::{Context, Evaluate};
use hcl::expr::TraversalOperator;
use hcl::{Block, Body, Expression, Structure};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Module calls nest at most this deep (a cycle of local sources would not end).
const MAX_DEPTH: usize = 16;
/// Passes over one module before what is still unresolved stays so (each
/// pass re-evaluates the modules it calls).
const MAX_PASSES: usize = 4;
/// Meta-arguments: how Terraform plans the resource, not its attributes.
const META: [&str; 4] = ["count", "for_each", "depends_on", "provider"];

/// What the evaluation of a root module found.
#[derive(Debug, Default)]
pub struct Evaluated {
    pub resources: Vec<Resource>,
    pub skipped: Vec<Skipped>,
    /// Every file read, root first.
    pub read: Vec<String>,
}

/// One module to evaluate: its files, and the values its variables get.
pub struct Module {
    /// Its folder (module sources are relative to it); `None` for text given directly.
    pub dir: Option<PathBuf>,
    /// (file name, text) of its `.tf` files.
    pub sources: Vec<(String, String)>,
    /// Values given to its variables (tfvars for the root, arguments for a call).
    pub inputs: Map<String, Json>,
    /// Variables the caller sets with an expression that did not resolve.
    pub unresolved_inputs: BTreeMap<String, String>,
    /// Inputs the caller derived from a root variable's default → that variable.
    pub defaulted_inputs: BTreeMap<String, String>,
    /// Inputs the caller set to a resource attribute only a plan knows → its address.
    pub input_refs: BTreeMap<String, String>,
}

/// Evaluates the root module and every module it calls.
pub fn evaluate(root: Module) -> Result<Evaluated, LoadError> {
    // An unreadable manifest costs only the downloaded modules (each listed as not
    // read, with why); the root's own resources and local modules are still audited.
    let (manifest, manifest_problem) = match root.dir.as_deref().map(manifest) {
        Some(Ok(found)) => (found, None),
        Some(Err(LoadError(problem))) => (BTreeMap::new(), Some(problem)),
        None => (BTreeMap::new(), None),
    };
    let mut tree = Tree {
        manifest,
        manifest_problem,
        read: Vec::new(),
    };
    let result = tree.module(&root, &Instance::root(), 0)?;
    // Each file once, in the order first read (modules are evaluated in passes).
    let mut seen = std::collections::BTreeSet::new();
    let mut read = tree.read;
    read.retain(|name| seen.insert(name.clone()));
    Ok(Evaluated {
        resources: result.resources,
        skipped: result.skipped,
        read,
    })
}

/// `.terraform/modules/modules.json`: module key (`db`, `db.db_instance`) →
/// the folder `terraform init` put it in.
fn manifest(root: &Path) -> Result<BTreeMap<String, PathBuf>, LoadError> {
    let path = root.join(".terraform/modules/modules.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(BTreeMap::new());
    };
    let doc: Json = serde_json::from_str(&text).map_err(|err| {
        LoadError(format!(
            "{}: not valid JSON ({err}): run `terraform init` again to rewrite it",
            path.display()
        ))
    })?;
    let mut found = BTreeMap::new();
    for module in doc["Modules"].as_array().into_iter().flatten() {
        if let (Some(key), Some(dir)) = (module["Key"].as_str(), module["Dir"].as_str())
            && !key.is_empty()
        {
            found.insert(key.to_string(), root.join(dir));
        }
    }
    Ok(found)
}

struct Tree {
    manifest: BTreeMap<String, PathBuf>,
    /// Why `.terraform/modules/modules.json` could not be read, if it could not.
    manifest_problem: Option<String>,
    read: Vec<String>,
}

/// Where a module instance sits: its address prefix, its manifest key, and
/// why it might not exist (a count only a plan knows).
#[derive(Clone)]
struct Instance {
    /// `module.db[0].module.inner`, empty for the root.
    address: String,
    /// `db.inner`, empty for the root.
    key: String,
    existence: Option<(String, String)>,
}

impl Instance {
    fn root() -> Self {
        Instance {
            address: String::new(),
            key: String::new(),
            existence: None,
        }
    }

    fn prefix(&self) -> String {
        if self.address.is_empty() {
            String::new()
        } else {
            format!("{}.", self.address)
        }
    }
}

#[derive(Default)]
struct Outcome {
    resources: Vec<Resource>,
    skipped: Vec<Skipped>,
    outputs: Map<String, Json>,
    /// Outputs that did not resolve but pass on a resource's attribute → its address.
    output_refs: BTreeMap<String, String>,
    /// `CALL.OUTPUT` of this module's calls → the resource attribute it passes on.
    module_refs: BTreeMap<String, String>,
    /// How many expressions stayed unresolved in this module and the ones it calls.
    unresolved: usize,
}

/// The values references see while a module is evaluated.
#[derive(Default, Clone)]
struct Scope {
    var: Map<String, Json>,
    local: Map<String, Json>,
    module: Map<String, Json>,
    /// Resource type → name → values (a list for `count`, a map for `for_each`).
    resources: BTreeMap<String, Map<String, Json>>,
    path_module: String,
    /// Variables whose value is a root variable's default (tfvars or `-var`
    /// may set it otherwise) → which default (`var.public in main.tf`).
    defaulted: BTreeMap<String, String>,
    /// Variables set to another resource's attribute only a plan knows → its address.
    var_refs: BTreeMap<String, String>,
    /// `CALL.OUTPUT` → the resource attribute the output passes on.
    module_refs: BTreeMap<String, String>,
    /// Locals that did not resolve → their expression, so a reference made
    /// through one (`local.parameter_group_name_id`) still links its resource.
    local_exprs: BTreeMap<String, Expression>,
    /// This module instance's address prefix (`module.db.`), and its resource types.
    prefix: String,
    kinds: Vec<String>,
}

impl Scope {
    fn context(&self) -> Context<'static> {
        let mut ctx = Context::new();
        functions::declare(&mut ctx);
        ctx.declare_var("var", hcl_value(&Json::Object(self.var.clone())));
        ctx.declare_var("local", hcl_value(&Json::Object(self.local.clone())));
        ctx.declare_var("module", hcl_value(&Json::Object(self.module.clone())));
        ctx.declare_var(
            "path",
            hcl_value(&serde_json::json!({"module": self.path_module})),
        );
        for (kind, named) in &self.resources {
            ctx.declare_var(kind.clone(), hcl_value(&Json::Object(named.clone())));
        }
        ctx
    }

    /// The resource attribute an unresolved expression stands for, when it is
    /// one (`aws_rds_cluster.this[0].id`, a variable or module output set to
    /// one), written with its full address so it links the two resources.
    fn reference(&self, expr: &Expression) -> Option<String> {
        self.reference_at(expr, 0)
    }

    /// [`Scope::reference`], through conditionals whose condition is known
    /// and through unresolved locals (at most a few levels deep).
    fn reference_at(&self, expr: &Expression, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let expr = match expr {
            Expression::FuncCall(call) if call.name.name.as_str() == "try" => call.args.first()?,
            Expression::Conditional(cond) => {
                return match value(&cond.cond_expr, &self.context(), self) {
                    Some(Json::Bool(true)) => self.reference_at(&cond.true_expr, depth + 1),
                    Some(Json::Bool(false)) => self.reference_at(&cond.false_expr, depth + 1),
                    _ => None,
                };
            }
            Expression::Parenthesis(inner) => return self.reference_at(inner, depth + 1),
            other => other,
        };
        let Expression::Traversal(traversal) = expr else {
            return None;
        };
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let attr = |i: usize| match traversal.operators.get(i) {
            Some(TraversalOperator::GetAttr(name)) => Some(name.as_str()),
            _ => None,
        };
        match root.as_str() {
            "var" => self.var_refs.get(attr(0)?).cloned(),
            "local" => self
                .local_exprs
                .get(attr(0)?)
                .and_then(|inner| self.reference_at(inner, depth + 1)),
            "module" => self
                .module_refs
                .get(&format!("{}.{}", attr(0)?, attr(1)?))
                .cloned(),
            kind if self.kinds.iter().any(|k| k == kind) => Some(format!("{}{expr}", self.prefix)),
            _ => None,
        }
    }

    /// The root variable default an expression reads, if it reads one.
    fn defaulted_in(&self, expr: &Expression) -> Option<String> {
        let text = expr.to_string();
        self.defaulted.iter().find_map(|(name, label)| {
            let needle = format!("var.{name}");
            text.match_indices(&needle)
                .any(|(at, _)| {
                    !text[at + needle.len()..]
                        .starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-')
                })
                .then(|| label.clone())
        })
    }

    /// Whether a failure to evaluate `expr` can only be an error, not an
    /// unknown value: it reads only known variables, locals, `each` and `count`.
    fn only_known(&self, expr: &Expression) -> bool {
        let Expression::Traversal(traversal) = expr else {
            return false;
        };
        let Expression::Variable(root) = &traversal.expr else {
            return false;
        };
        let first = match traversal.operators.first() {
            Some(TraversalOperator::GetAttr(name)) => Some(name.as_str()),
            _ => None,
        };
        match root.as_str() {
            "each" | "count" => true,
            "var" => first.is_some_and(|n| self.var.contains_key(n)),
            "local" => first.is_some_and(|n| self.local.contains_key(n)),
            _ => false,
        }
    }
}

/// How many instances a `count`/`for_each` block has.
enum Instances {
    /// No meta-argument: one instance, no index.
    Single,
    /// `(address suffix, count.index / each.key and each.value)`.
    Known(Vec<(String, Json)>),
    /// The count or key set is set by an expression that did not resolve.
    Unknown(String, String),
}

impl Tree {
    fn module(&mut self, m: &Module, at: &Instance, depth: usize) -> Result<Outcome, LoadError> {
        let mut bodies = Vec::new();
        for (name, text) in &m.sources {
            bodies.push((name.clone(), text.clone(), parse(name, text)?));
            self.read.push(name.clone());
        }
        let mut scope = Scope {
            path_module: m
                .dir
                .as_ref()
                .map_or(".".into(), |d| d.display().to_string()),
            var_refs: m.input_refs.clone(),
            prefix: at.prefix(),
            kinds: bodies
                .iter()
                .flat_map(|(_, _, body)| blocks(body, "resource"))
                .filter_map(|b| b.labels.first().map(|l| l.as_str().to_string()))
                .collect(),
            ..Scope::default()
        };
        for (_, _, body) in &bodies {
            for block in blocks(body, "variable") {
                let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else {
                    continue;
                };
                // `nullable = false`: a null from the caller means the default.
                let not_nullable = matches!(
                    attribute(&block.body, "nullable"),
                    Some(Expression::Bool(false))
                );
                let given = m
                    .inputs
                    .get(&name)
                    .filter(|v| !(v.is_null() && not_nullable));
                if let Some(value) = given {
                    if let Some(label) = m.defaulted_inputs.get(&name) {
                        scope.defaulted.insert(name.clone(), label.clone());
                    }
                    scope.var.insert(name, value.clone());
                } else if m.unresolved_inputs.contains_key(&name) {
                    // Set by the caller with an expression only a plan resolves.
                } else if let Some(value) = attribute(&block.body, "default")
                    .and_then(|e| e.evaluate(&Context::new()).ok())
                    .and_then(|v| serde_json::to_value(v).ok())
                {
                    if depth == 0 {
                        let file = bodies
                            .iter()
                            .find(|(_, _, b)| blocks(b, "variable").any(|v| std::ptr::eq(v, block)))
                            .map_or("", |(f, _, _)| f.as_str());
                        scope
                            .defaulted
                            .insert(name.clone(), format!("var.{name} (default in {file})"));
                    }
                    scope.var.insert(name, value);
                }
            }
        }
        if m.dir.is_none() || depth == 0 {
            // The root reads tfvars for variables it does not declare too (Terraform warns).
            for (name, value) in &m.inputs {
                scope.var.entry(name.clone()).or_insert(value.clone());
            }
        }
        // Until a pass changes nothing (a fixpoint), or the pass budget is spent.
        let mut last: Option<Outcome> = None;
        for _ in 0..MAX_PASSES {
            let outcome = self.pass(m, &bodies, &mut scope, at, depth)?;
            let settled = last.as_ref().is_some_and(|l| {
                l.resources == outcome.resources
                    && l.outputs == outcome.outputs
                    && l.output_refs == outcome.output_refs
            });
            last = Some(outcome);
            if settled {
                break;
            }
        }
        Ok(last.unwrap_or_default())
    }

    /// One pass: locals, module calls, resources and outputs with what the scope knows.
    fn pass(
        &mut self,
        m: &Module,
        bodies: &[(String, String, Body)],
        scope: &mut Scope,
        at: &Instance,
        depth: usize,
    ) -> Result<Outcome, LoadError> {
        let mut out = Outcome::default();
        scope.local = locals(bodies, scope);
        scope.local_exprs = bodies
            .iter()
            .flat_map(|(_, _, body)| blocks(body, "locals"))
            .flat_map(|block| block.body.attributes())
            .filter(|attr| !scope.local.contains_key(attr.key.as_str()))
            .map(|attr| (attr.key.to_string(), attr.expr.clone()))
            .collect();
        let ctx = scope.context();
        let mut modules = Map::new();
        for (_, _, body) in bodies {
            for call in blocks(body, "module") {
                let Some(name) = call.labels.first().map(|l| l.as_str().to_string()) else {
                    continue;
                };
                let outputs = self.call(m, call, &name, &ctx, scope, at, depth, &mut out)?;
                modules.insert(name, outputs);
            }
        }
        scope.module = modules;
        scope.module_refs = std::mem::take(&mut out.module_refs);
        let ctx = scope.context();
        let mut resources: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
        let kinds: Vec<String> = bodies
            .iter()
            .flat_map(|(_, _, body)| blocks(body, "resource"))
            .filter_map(|b| b.labels.first().map(|l| l.as_str().to_string()))
            .collect();
        for (file, text, body) in bodies {
            for block in blocks(body, "resource") {
                let [kind, name] = block.labels.as_slice() else {
                    continue;
                };
                let (kind, name) = (kind.as_str(), name.as_str());
                let base = format!("{}{kind}.{name}", at.prefix());
                let line = block_line(text, kind, name);
                let planned = |suffix: &str, p: Planned| Resource {
                    address: format!("{base}{suffix}"),
                    kind: kind.to_string(),
                    file: file.clone(),
                    line,
                    values: p.values,
                    unresolved: qualified(p.unresolved, &at.prefix(), &kinds),
                    defaults: p.defaults,
                    inputs: if at.prefix().is_empty() {
                        BTreeMap::new()
                    } else {
                        var_inputs(&block.body, "")
                    },
                };
                let add = |resource: Resource, out: &mut Outcome| {
                    out.unresolved += resource.unresolved.len();
                    if let Some((meta, why)) = &at.existence {
                        let mut resource = resource;
                        resource.unresolved.insert(meta.clone(), why.clone());
                        out.resources.push(resource);
                    } else {
                        out.resources.push(resource);
                    }
                };
                let entry = resources.entry(kind.to_string()).or_default();
                match instances(&block.body, &ctx) {
                    Instances::Single => {
                        let p = resource_values(&block.body, &ctx, scope);
                        entry.insert(name.to_string(), p.values.clone());
                        add(planned("", p), &mut out);
                    }
                    Instances::Known(list) => {
                        let keyed = block_keyed(&block.body);
                        let mut collected = if keyed {
                            Json::Object(Map::new())
                        } else {
                            Json::Array(Vec::new())
                        };
                        for (suffix, each) in list {
                            let ctx = with_instance(&ctx, keyed, &each);
                            let p = resource_values(&block.body, &ctx, scope);
                            match &mut collected {
                                Json::Object(map) => {
                                    map.insert(key_text(&each), p.values.clone());
                                }
                                Json::Array(items) => items.push(p.values.clone()),
                                _ => {}
                            }
                            add(planned(&suffix, p), &mut out);
                        }
                        entry.insert(name.to_string(), collected);
                    }
                    Instances::Unknown(meta, expression) => {
                        let mut p = resource_values(&block.body, &ctx, scope);
                        p.unresolved.insert(meta, expression);
                        add(planned("", p), &mut out);
                    }
                }
            }
        }
        // `data "google_project"`: which project a budget's `projects/${data.google_project.X.number}`
        // names (its `project_id`), as a `google_project` resource declares it.
        for (file, _, body) in bodies {
            for block in blocks(body, "data") {
                if let [kind, name] = block.labels.as_slice()
                    && kind.as_str() == DATA_PROJECT
                    && matches!(instances(&block.body, &ctx), Instances::Single)
                {
                    let p = resource_values(&block.body, &ctx, scope);
                    out.resources.push(Resource {
                        address: format!("{}data.{DATA_PROJECT}.{}", at.prefix(), name.as_str()),
                        kind: DATA_PROJECT.to_string(),
                        file: file.clone(),
                        line: None,
                        values: p.values,
                        unresolved: p.unresolved,
                        defaults: p.defaults,
                        inputs: BTreeMap::new(),
                    });
                }
            }
        }
        scope.resources = resources;
        let ctx = scope.context();
        for (_, _, body) in bodies {
            for output in blocks(body, "output") {
                let Some(name) = output.labels.first() else {
                    continue;
                };
                let Some(expr) = attribute(&output.body, "value") else {
                    continue;
                };
                match value(expr, &ctx, scope) {
                    Some(value) => {
                        out.outputs.insert(name.as_str().to_string(), value);
                    }
                    None => {
                        out.unresolved += 1;
                        if let Some(reference) = scope.reference(expr) {
                            out.output_refs.insert(name.as_str().to_string(), reference);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// A `module` block: each instance evaluated, its outputs returned
    /// (a list for `count`, a map for `for_each`).
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        m: &Module,
        call: &Block,
        name: &str,
        ctx: &Context<'_>,
        scope: &Scope,
        at: &Instance,
        depth: usize,
        out: &mut Outcome,
    ) -> Result<Json, LoadError> {
        let address = format!("{}module.{name}", at.prefix());
        let key = if at.key.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", at.key)
        };
        let source = attribute(&call.body, "source")
            .and_then(|e| e.evaluate(&Context::new()).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let local = source.starts_with("./") || source.starts_with("../");
        let dir = if local {
            m.dir.as_ref().map(|d| joined(d, &source))
        } else {
            self.manifest.get(&key).cloned()
        };
        let files = dir.as_ref().and_then(|d| tf_files(d).ok());
        let (Some(dir), Some(sources)) = (dir, files.filter(|f| !f.is_empty())) else {
            let why = if local {
                format!(
                    "module source {source:?} is not a folder of .tf files next to the calling module"
                )
            } else if let Some(problem) = &self.manifest_problem {
                format!("module source {source:?} is not read: {problem}")
            } else {
                format!(
                    "module source {source:?} is not downloaded: run `terraform init` in the root module, or {}",
                    super::PLAN_FIX
                )
            };
            if !out.skipped.iter().any(|s| s.address == address) {
                out.skipped.push(Skipped {
                    address,
                    reason: why,
                });
            }
            out.unresolved += 1;
            return Ok(Json::Object(Map::new()));
        };
        if depth >= MAX_DEPTH {
            return Err(LoadError(format!(
                "{address}: modules nest more than {MAX_DEPTH} deep (a module that calls itself?)"
            )));
        }
        let list = instances(&call.body, ctx);
        let keyed = block_keyed(&call.body);
        type Run = (String, Option<Json>, Option<(String, String)>);
        let runs: Vec<Run> = match list {
            Instances::Single => vec![(String::new(), None, at.existence.clone())],
            Instances::Known(list) => list
                .into_iter()
                .map(|(suffix, each)| (suffix, Some(each), at.existence.clone()))
                .collect(),
            Instances::Unknown(meta, expression) => vec![(
                String::new(),
                None,
                Some((meta.clone(), format!("{address}: {meta} = {expression}"))),
            )],
        };
        let mut outputs = if keyed {
            Json::Object(Map::new())
        } else {
            Json::Array(Vec::new())
        };
        let single = !matches!(instances(&call.body, ctx), Instances::Known(_));
        for (suffix, each, existence) in runs {
            let ctx = match &each {
                Some(each) => with_instance(ctx, keyed, each),
                None => ctx.clone(),
            };
            let mut inputs = Map::new();
            let mut unresolved_inputs = BTreeMap::new();
            let mut defaulted_inputs = BTreeMap::new();
            let mut input_refs = BTreeMap::new();
            for attr in call.body.attributes() {
                let arg = attr.key.as_str();
                if matches!(arg, "source" | "version" | "providers") || META.contains(&arg) {
                    continue;
                }
                match value(&attr.expr, &ctx, scope) {
                    Some(value) => {
                        if let Some(label) = scope.defaulted_in(&attr.expr) {
                            defaulted_inputs.insert(arg.to_string(), label);
                        }
                        inputs.insert(arg.to_string(), value);
                    }
                    None => {
                        if let Some(reference) = scope.reference(&attr.expr) {
                            input_refs.insert(arg.to_string(), reference);
                        }
                        unresolved_inputs.insert(arg.to_string(), attr.expr.to_string());
                    }
                }
            }
            let child = Module {
                dir: Some(dir.clone()),
                sources: sources.clone(),
                inputs,
                unresolved_inputs,
                defaulted_inputs,
                input_refs,
            };
            let instance = Instance {
                address: format!("{address}{suffix}"),
                key: key.clone(),
                existence,
            };
            let result = self.module(&child, &instance, depth + 1)?;
            out.resources.extend(result.resources);
            for skipped in result.skipped {
                if !out.skipped.iter().any(|s| s.address == skipped.address) {
                    out.skipped.push(skipped);
                }
            }
            out.unresolved += result.unresolved;
            let produced = Json::Object(result.outputs);
            if single {
                for (output, reference) in result.output_refs {
                    out.module_refs
                        .insert(format!("{name}.{output}"), reference);
                }
                return Ok(produced);
            }
            match (&mut outputs, each) {
                (Json::Object(map), Some(each)) => {
                    map.insert(key_text(&each), produced);
                }
                (Json::Array(items), _) => items.push(produced),
                _ => {}
            }
        }
        Ok(outputs)
    }
}

/// `base` joined with a relative module source, `.` and `..` resolved
/// lexically (as Terraform does), so file names in reports stay readable.
fn joined(base: &Path, relative: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in base.join(relative).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A module's `.tf` files (`(path, text)`), sorted as Terraform reads them.
pub fn tf_files(dir: &Path) -> Result<Vec<(String, String)>, LoadError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|err| LoadError(format!("cannot read directory {}: {err}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "tf"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| Ok((p.display().to_string(), super::load::read(&p)?)))
        .collect()
}

/// The instances `count` or `for_each` gives a block.
fn instances(body: &Body, ctx: &Context<'_>) -> Instances {
    if let Some(count) = attribute(body, "count") {
        return match count.evaluate(ctx).ok().and_then(|v| v.as_u64()) {
            Some(n) => {
                Instances::Known((0..n).map(|i| (format!("[{i}]"), Json::from(i))).collect())
            }
            None => Instances::Unknown("count".into(), count.to_string()),
        };
    }
    if let Some(for_each) = attribute(body, "for_each") {
        let keys = match for_each
            .evaluate(ctx)
            .ok()
            .and_then(|v| serde_json::to_value(v).ok())
        {
            Some(Json::Object(map)) => Some(
                map.into_iter()
                    .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
                    .collect::<Vec<_>>(),
            ),
            Some(Json::Array(items)) if items.iter().all(Json::is_string) => Some(
                items
                    .into_iter()
                    .map(|v| serde_json::json!({"key": v, "value": v}))
                    .collect(),
            ),
            _ => None,
        };
        return match keys {
            Some(keys) => Instances::Known(
                keys.into_iter()
                    .map(|each| (format!("[{}]", each["key"]), each))
                    .collect(),
            ),
            None => Instances::Unknown("for_each".into(), for_each.to_string()),
        };
    }
    Instances::Single
}

fn block_keyed(body: &Body) -> bool {
    attribute(body, "for_each").is_some()
}

fn key_text(each: &Json) -> String {
    match &each["key"] {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `ctx` with `count.index` or `each.key` / `each.value` of one instance.
fn with_instance<'a>(ctx: &Context<'a>, keyed: bool, each: &Json) -> Context<'a> {
    let mut ctx = ctx.clone();
    if keyed {
        ctx.declare_var("each", hcl_value(each));
    } else {
        ctx.declare_var("count", hcl_value(&serde_json::json!({"index": each})));
    }
    ctx
}

/// In a module, a reference to one of its resources (`aws_rds_cluster.this[0].id`)
/// is written with the module's address (`module.aurora.aws_rds_cluster.this[0].id`),
/// so it names the resource of this module instance, as a plan's addresses do.
fn qualified(
    unresolved: BTreeMap<String, String>,
    prefix: &str,
    kinds: &[String],
) -> BTreeMap<String, String> {
    if prefix.is_empty() {
        return unresolved;
    }
    unresolved
        .into_iter()
        .map(|(path, expression)| {
            let first = expression.split('.').next().unwrap_or_default();
            if kinds.iter().any(|k| k == first) {
                (path, format!("{prefix}{expression}"))
            } else {
                (path, expression)
            }
        })
        .collect()
}

/// An expression's value, or `None` when it does not resolve. A top-level
/// `try(a, b, …)` takes the first argument that evaluates, passing over one
/// only when its failure cannot be an unknown value (see [`Scope::only_known`]).
fn value(expr: &Expression, ctx: &Context<'_>, scope: &Scope) -> Option<Json> {
    if let Expression::FuncCall(call) = expr
        && call.name.namespace.is_empty()
        && call.name.name.as_str() == "try"
        && !call.expand_final
    {
        for arg in &call.args {
            if let Some(found) = value(arg, ctx, scope) {
                return Some(found);
            }
            if !scope.only_known(arg) {
                return None;
            }
        }
        return None;
    }
    expr.evaluate(ctx)
        .ok()
        .and_then(|v| serde_json::to_value(v).ok())
}

/// A resource's attributes and nested blocks in Terraform's JSON shape,
/// without its meta-arguments, with what did not resolve.
fn resource_values(body: &Body, ctx: &Context<'_>, scope: &Scope) -> Planned {
    let mut unresolved = BTreeMap::new();
    let mut defaults = BTreeMap::new();
    let mut values = block_values(body, "", ctx, scope, &mut unresolved, &mut defaults);
    if let Json::Object(fields) = &mut values {
        for meta in META {
            fields.remove(meta);
        }
    }
    unresolved.retain(|path, _| !META.contains(&path.as_str()));
    Planned {
        values,
        unresolved,
        defaults,
    }
}

/// Attribute path → the one variable its expression reads (`var.NAME`),
/// for the attributes and nested blocks of a resource body (`dynamic`
/// blocks are left out: their content depends on the iteration).
fn var_inputs(body: &Body, prefix: &str) -> BTreeMap<String, String> {
    let path = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    let mut inputs = BTreeMap::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                let text = attr.expr.to_string();
                let mut names: Vec<&str> = text
                    .match_indices("var.")
                    .filter(|(at, _)| {
                        !text[..*at]
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                    })
                    .filter_map(|(at, _)| {
                        let rest = &text[at + 4..];
                        let end = rest
                            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                            .unwrap_or(rest.len());
                        (end > 0).then(|| &rest[..end])
                    })
                    .collect();
                names.dedup();
                if let [name] = names.as_slice() {
                    inputs.insert(path(attr.key.as_str()), name.to_string());
                }
            }
            Structure::Block(block) if block.identifier.as_str() != "dynamic" => {
                inputs.extend(var_inputs(&block.body, &path(block.identifier.as_str())));
            }
            Structure::Block(_) => {}
        }
    }
    inputs
}

/// A resource instance's values, what did not resolve, what came from a root default.
struct Planned {
    values: Json,
    unresolved: BTreeMap<String, String>,
    defaults: BTreeMap<String, String>,
}

/// A block's attributes and nested blocks, in Terraform's JSON shape.
fn block_values(
    body: &Body,
    prefix: &str,
    ctx: &Context<'_>,
    scope: &Scope,
    unresolved: &mut BTreeMap<String, String>,
    defaults: &mut BTreeMap<String, String>,
) -> Json {
    let path = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    let mut values = Map::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.to_string();
                match value(&attr.expr, ctx, scope) {
                    Some(value) => {
                        if let Some(label) = scope.defaulted_in(&attr.expr) {
                            defaults.insert(path(&key), label);
                        }
                        values.insert(key, value);
                    }
                    None => {
                        let written = scope
                            .reference(&attr.expr)
                            .unwrap_or_else(|| attr.expr.to_string());
                        unresolved.insert(path(&key), written);
                    }
                }
            }
            Structure::Block(block) if block.identifier.as_str() == "dynamic" => {
                let Some(label) = block.labels.first().map(|l| l.as_str().to_string()) else {
                    continue;
                };
                match dynamic(block, &label, ctx, scope) {
                    Some(items) => {
                        let mut expanded = Vec::new();
                        for (each, content) in items {
                            let ctx = {
                                let mut inner = ctx.clone();
                                inner.declare_var(each.0.clone(), hcl_value(&each.1));
                                inner
                            };
                            expanded.push(block_values(
                                content,
                                &path(&label),
                                &ctx,
                                scope,
                                unresolved,
                                defaults,
                            ));
                        }
                        values.insert(label, Json::Array(expanded));
                    }
                    None => {
                        unresolved.insert(path(&label), format!("dynamic \"{label}\" block"));
                    }
                }
            }
            Structure::Block(block) => {
                let key = block.identifier.to_string();
                let nested =
                    block_values(&block.body, &path(&key), ctx, scope, unresolved, defaults);
                match values.entry(key).or_insert_with(|| Json::Array(Vec::new())) {
                    Json::Array(items) => items.push(nested),
                    other => *other = Json::Array(vec![nested]),
                }
            }
        }
    }
    Json::Object(values)
}

/// A `dynamic` block whose `for_each` resolves: one `content` per element,
/// with the iterator (`iterator = NAME`, else the block's label) bound to
/// `{key, value}`.
#[allow(clippy::type_complexity)]
fn dynamic<'b>(
    block: &'b Block,
    label: &str,
    ctx: &Context<'_>,
    scope: &Scope,
) -> Option<Vec<((String, Json), &'b Body)>> {
    let content = &blocks(&block.body, "content").next()?.body;
    let iterator = match attribute(&block.body, "iterator") {
        Some(Expression::Variable(name)) => name.as_str().to_string(),
        Some(_) => return None,
        None => label.to_string(),
    };
    let elements: Vec<Json> = match value(attribute(&block.body, "for_each")?, ctx, scope)? {
        Json::Object(map) => map
            .into_iter()
            .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
            .collect(),
        Json::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| serde_json::json!({"key": i, "value": v}))
            .collect(),
        _ => return None,
    };
    Some(
        elements
            .into_iter()
            .map(|each| ((iterator.clone(), each), content))
            .collect(),
    )
}

/// Locals may use each other: evaluated in passes until nothing more resolves.
fn locals(bodies: &[(String, String, Body)], scope: &Scope) -> Map<String, Json> {
    let mut pending: Vec<(String, Expression)> = bodies
        .iter()
        .flat_map(|(_, _, body)| blocks(body, "locals"))
        .flat_map(|block| block.body.attributes())
        .map(|attr| (attr.key.to_string(), attr.expr.clone()))
        .collect();
    let mut scope = scope.clone();
    scope.local = Map::new();
    loop {
        let ctx = scope.context();
        let before = pending.len();
        let mut found = Vec::new();
        pending.retain(|(name, expr)| match value(expr, &ctx, &scope) {
            Some(value) => {
                found.push((name.clone(), value));
                false
            }
            None => true,
        });
        scope.local.extend(found);
        if pending.is_empty() || pending.len() == before {
            return scope.local;
        }
    }
}

/// The line of `resource "KIND" "NAME" {` (the parser keeps no positions).
fn block_line(text: &str, kind: &str, name: &str) -> Option<usize> {
    let (kind, name) = (format!("\"{kind}\""), format!("\"{name}\""));
    text.lines()
        .position(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some("resource")
                && words.next() == Some(&kind)
                && words.next() == Some(&name)
        })
        .map(|index| index + 1)
}

/// The data source whose `project_id` and `number` tell a budget's project (read as a `google_project`).
pub const DATA_PROJECT: &str = "google_project";

pub fn blocks<'a>(body: &'a Body, identifier: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks()
        .filter(move |b| b.identifier.as_str() == identifier)
}

pub fn attribute<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == key)
        .map(|a| &a.expr)
}

fn hcl_value(json: &Json) -> hcl::Value {
    hcl::to_value(json).unwrap_or(hcl::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/terraform")
            .join(name)
    }

    fn root(dir: &Path) -> Evaluated {
        evaluate(Module {
            dir: Some(dir.to_path_buf()),
            sources: tf_files(dir).unwrap(),
            inputs: Map::new(),
            unresolved_inputs: BTreeMap::new(),
            defaulted_inputs: BTreeMap::new(),
            input_refs: BTreeMap::new(),
        })
        .unwrap()
    }

    #[test]
    fn modules_are_followed_to_terraform_addresses() {
        let found = root(&fixture("modules"));
        let addresses: Vec<&str> = found.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addresses,
            [
                "module.db.module.db_parameter_group.aws_db_parameter_group.this[0]",
                "module.db.module.db_instance.aws_db_instance.this[0]",
                // `create_db_instance = false`: the instance has count 0, its group is still created.
                "module.disabled.module.db_parameter_group.aws_db_parameter_group.this[0]",
                "module.aurora.aws_rds_cluster.this[0]",
                r#"module.aurora.aws_rds_cluster_instance.this["one"]"#,
                r#"module.aurora.aws_rds_cluster_instance.this["two"]"#,
            ]
        );
        assert!(found.skipped.is_empty(), "{:?}", found.skipped);
        let mut once = found.read.clone();
        once.sort();
        once.dedup();
        assert_eq!(once.len(), found.read.len(), "each file listed once");
        let db = &found.resources[1];
        // Call arguments bind variables; the module's defaults fill the rest.
        assert_eq!(db.values["multi_az"], true, "var.environment == \"prod\"");
        assert_eq!(db.values["backup_retention_period"], 14);
        // …through two calls from the root's `var.environment`, whose default tfvars may override.
        assert_eq!(
            db.defaults["multi_az"],
            format!(
                "var.environment (default in {})",
                fixture("modules/main.tf").display()
            )
        );
        assert!(
            !db.defaults.contains_key("backup_retention_period"),
            "a literal"
        );
        assert!(
            !db.defaults.contains_key("publicly_accessible"),
            "the module's own default is fixed by its call"
        );
        assert_eq!(
            db.values["publicly_accessible"], false,
            "the module's default"
        );
        assert_eq!(db.values["tags"]["Name"], "orders", "merge() and format()");
        // The parameter group is expanded from its dynamic block, named by prefix.
        let group = &found.resources[0];
        assert_eq!(group.values["name_prefix"], "orders-");
        assert_eq!(group.values["parameter"][0]["name"], "rds.force_ssl");
        // A member's reference to its cluster names the cluster of this module instance.
        let two = &found.resources[5];
        assert_eq!(
            two.values["instance_class"], "db.r6g.xlarge",
            "try(each.value…)"
        );
        assert_eq!(found.resources[4].values["instance_class"], "db.r6g.large");
        assert_eq!(
            two.unresolved["cluster_identifier"],
            "module.aurora.aws_rds_cluster.this[0].id"
        );
    }

    fn text(files: &[(&str, &str)]) -> Evaluated {
        evaluate(Module {
            dir: None,
            sources: files
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
            inputs: Map::new(),
            unresolved_inputs: BTreeMap::new(),
            defaulted_inputs: BTreeMap::new(),
            input_refs: BTreeMap::new(),
        })
        .unwrap()
    }

    #[test]
    fn count_and_for_each_plan_one_resource_per_instance_or_none() {
        let found = text(&[(
            "main.tf",
            r#"
variable "replicas" { default = {} }
variable "on" {}
resource "aws_db_instance" "none" {
  for_each = var.replicas
  engine   = "postgres"
}
resource "aws_db_instance" "maybe" {
  count  = var.on ? 1 : 0
  engine = "postgres"
}
resource "aws_db_instance" "set" {
  for_each   = toset(["a", "b"])
  identifier = "db-${each.key}"
}
resource "aws_db_instance" "third" {
  count      = 3
  identifier = "r${count.index}"
}
"#,
        )]);
        let addresses: Vec<&str> = found.resources.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(
            addresses,
            [
                "aws_db_instance.maybe",
                r#"aws_db_instance.set["a"]"#,
                r#"aws_db_instance.set["b"]"#,
                "aws_db_instance.third[0]",
                "aws_db_instance.third[1]",
                "aws_db_instance.third[2]",
            ]
        );
        assert_eq!(found.resources[0].unresolved["count"], "var.on ? 1 : 0");
        assert_eq!(found.resources[2].values["identifier"], "db-b");
        assert_eq!(found.resources[5].values["identifier"], "r2");
    }

    #[test]
    fn a_null_argument_to_a_non_nullable_variable_takes_its_default() {
        let dir = tempfile::tempdir().unwrap();
        let child = dir.path().join("m");
        std::fs::create_dir_all(&child).unwrap();
        std::fs::write(
            child.join("main.tf"),
            "variable \"strict\" {\n  default  = 7\n  nullable = false\n}\nvariable \"loose\" { default = 7 }\nresource \"aws_db_instance\" \"a\" {\n  backup_retention_period = var.strict\n  port                    = var.loose\n}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "module \"m\" {\n  source = \"./m\"\n  strict = null\n  loose  = null\n}\n",
        )
        .unwrap();
        let found = root(dir.path());
        let a = &found.resources[0];
        assert_eq!(a.values["backup_retention_period"], 7);
        assert!(a.values["port"].is_null(), "nullable: null stays null");
    }

    #[test]
    fn try_never_falls_back_past_an_unknown_value() {
        let found = text(&[(
            "main.tf",
            r#"
variable "cfg" { default = {} }
resource "aws_rds_cluster" "c" { engine = "aurora-postgresql" }
resource "aws_db_instance" "i" {
  instance_class    = try(var.cfg.class, "db.t4g.micro")
  kms_key_id        = try(aws_rds_cluster.c.kms_key_id, "none")
  storage_encrypted = try(data.aws_x.y.enc, false)
}
"#,
        )]);
        let i = &found.resources[1];
        assert_eq!(
            i.values["instance_class"], "db.t4g.micro",
            "a known map lacks the key"
        );
        assert!(
            i.unresolved.contains_key("kms_key_id"),
            "computed: unknown, not \"none\""
        );
        assert!(i.unresolved.contains_key("storage_encrypted"));
    }

    #[test]
    fn a_module_not_downloaded_is_listed_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "module \"db\" {\n  source = \"terraform-aws-modules/rds/aws\"\n  engine = \"postgres\"\n}\n",
        )
        .unwrap();
        let found = root(dir.path());
        assert!(found.resources.is_empty());
        assert_eq!(found.skipped.len(), 1);
        assert_eq!(found.skipped[0].address, "module.db");
        assert!(
            found.skipped[0].reason.contains("terraform init"),
            "{:?}",
            found.skipped
        );
    }
}
