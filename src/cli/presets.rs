//! `loopguard presets`: every preset a name finds, with its description.

use std::process::ExitCode;

use loopguard::supervisor::presets::PresetCatalog;

pub fn presets() -> anyhow::Result<ExitCode> {
    let list = PresetCatalog::for_scenario(None).list();
    let width = list.iter().map(|p| p.name.len()).max().unwrap_or(0);
    for p in &list {
        let origin = p
            .file
            .as_ref()
            .map_or_else(|| "built-in".to_string(), |f| f.display().to_string());
        println!("{:width$}  {}  [{origin}]", p.name, p.description);
    }
    Ok(ExitCode::SUCCESS)
}
