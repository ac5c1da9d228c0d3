//! `wlmake graph RECIPE [--runtime R] [--dot]`: the dependency graph with identities.

use anyhow::Result;

use super::Session;
use crate::build;
use crate::build::profile::Profile;
use crate::cli::GraphArgs;
use crate::plan::Plan;
use crate::recipe::graph::Graph;

pub fn graph(session: &Session, args: &GraphArgs) -> Result<()> {
    let repo = session.repository()?;
    let plan = Plan::resolve(
        &repo,
        session.layout(&repo),
        &args.recipe,
        args.runtime,
        Profile::Release,
    )?;
    // Identities only: nothing is built, looked up in the store or fetched.
    let ctx = super::build::context(
        session,
        &repo,
        &plan,
        None,
        false,
        &super::build::IDENTITY_ONLY,
    )?;
    let graph = &plan.graph;
    let identities = build::graph_identities(&ctx)?;
    let text = if args.dot {
        dot(graph, &identities)
    } else {
        tree(graph, &identities)
    };
    print!("{text}");
    Ok(())
}

fn label(graph: &Graph, identities: &[String], index: usize) -> String {
    let recipe = &graph.nodes[index].recipe;
    let kind = if recipe.library.is_some() {
        "library"
    } else if index + 1 == graph.nodes.len() {
        "recipe"
    } else {
        "in-tree"
    };
    format!("{} {} ({kind})", recipe.id, &identities[index][..16])
}

/// The root, then each dependency indented under what needs it (a shared library shows
/// up under every dependent).
pub fn tree(graph: &Graph, identities: &[String]) -> String {
    fn walk(graph: &Graph, ids: &[String], index: usize, indent: &str, out: &mut String) {
        let deps = &graph.nodes[index].deps;
        for (n, &dep) in deps.iter().enumerate() {
            let last = n + 1 == deps.len();
            out.push_str(&format!(
                "{indent}{}{}\n",
                if last { "└── " } else { "├── " },
                label(graph, ids, dep)
            ));
            let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
            walk(graph, ids, dep, &deeper, out);
        }
    }
    let root = graph.nodes.len() - 1;
    let mut out = format!("{}\n", label(graph, identities, root));
    walk(graph, identities, root, "", &mut out);
    out
}

/// Graphviz DOT: one node per recipe (id and identity), an edge from each recipe to
/// what it needs; nodes in build order.
pub fn dot(graph: &Graph, identities: &[String]) -> String {
    let root = &graph.root().recipe.id;
    let mut out = format!("digraph \"{root}\" {{\n  rankdir=LR;\n");
    for (index, node) in graph.nodes.iter().enumerate() {
        let shape = if node.recipe.library.is_some() {
            "box"
        } else {
            "ellipse"
        };
        out.push_str(&format!(
            "  \"{}\" [label=\"{}\\n{}\", shape={shape}];\n",
            node.recipe.id,
            node.recipe.id,
            &identities[index][..16]
        ));
    }
    for node in &graph.nodes {
        for &dep in &node.deps {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\";\n",
                node.recipe.id, graph.nodes[dep].recipe.id
            ));
        }
    }
    out.push_str("}\n");
    out
}
