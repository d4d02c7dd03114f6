//! Checks for generated program code: a tree-sitter parse in the artifact's language, then what makes it the
//! artifact asked for (a test that asserts, a browser driven, a service called).

/// Parses `code` with a tree-sitter grammar; the first syntax error's position is the error.
pub(super) fn tree_sitter(language: tree_sitter::Language, code: &str, what: &str) -> Result<(), String> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&language).map_err(|e| format!("{what} grammar unavailable: {e}"))?;
    let tree = parser.parse(code, None).ok_or_else(|| format!("{what} could not be parsed"))?;
    let root = tree.root_node();
    if !root.has_error() {
        return Ok(());
    }
    let mut cursor = root.walk();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let at = node.start_position();
            return Err(format!("{what} syntax error at line {}, column {}", at.row + 1, at.column + 1));
        }
        stack.extend(node.children(&mut cursor));
    }
    Err(format!("{what} syntax error"))
}

/// Whether `code` calls the free function `name` (not a method of the same name, nor a longer identifier).
fn calls(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && code[at + name.len()..].trim_start().starts_with('(')
    })
}

/// Whether a Python module imports `module` (or a submodule of it).
fn python_imports(code: &str, module: &str) -> bool {
    code.lines().map(str::trim_start).any(|line| {
        let named = |rest: &str| {
            rest == module || rest.starts_with(&format!("{module}.")) || rest.starts_with(&format!("{module} "))
        };
        line.strip_prefix("import ").is_some_and(|rest| rest.split(',').any(|m| named(m.trim())))
            || line.strip_prefix("from ").is_some_and(named)
    })
}

/// Python with at least one `def test_…` that asserts.
fn python_tests(code: &str) -> Result<(), String> {
    python(code)?;
    if !code.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("def test_") || l.starts_with("async def test_")
    }) {
        return Err("no test: define `def test_…()` functions".into());
    }
    let asserts = code.lines().any(|l| l.trim_start().starts_with("assert ")) || code.contains("pytest.raises");
    if !asserts {
        return Err("the tests assert nothing: use `assert`".into());
    }
    Ok(())
}

pub(super) fn python(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_python::LANGUAGE.into(), code, "Python")
}

pub(super) fn jest(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_javascript::LANGUAGE.into(), code, "JavaScript")?;
    if !(calls(code, "test") || calls(code, "it")) {
        return Err("no Jest test: call `test(...)` or `it(...)`".into());
    }
    if !calls(code, "expect") {
        return Err("the tests assert nothing: use `expect(...)`".into());
    }
    Ok(())
}

pub(super) fn go_test(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_go::LANGUAGE.into(), code, "Go")?;
    if !code.lines().any(|line| line.trim_start().starts_with("package ")) {
        return Err("no package clause".into());
    }
    if !code.contains("\"testing\"") {
        return Err("the file does not import \"testing\"".into());
    }
    let has_test = code.lines().any(|line| {
        line.trim_start().strip_prefix("func Test").is_some_and(|rest| {
            let name_ends = rest.find('(').unwrap_or(0);
            rest[..name_ends].chars().next().is_none_or(|c| !c.is_lowercase()) && rest.contains("*testing.T")
        })
    });
    if !has_test {
        return Err("no test function: `func TestXxx(t *testing.T)`".into());
    }
    Ok(())
}

pub(super) fn tsx(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_typescript::LANGUAGE_TSX.into(), code, "TSX")
}

/// A Playwright test file in TypeScript: it imports `@playwright/test`, declares a `test(…)`, drives `page` and
/// asserts with `expect`.
pub(super) fn playwright(code: &str) -> Result<(), String> {
    tree_sitter(tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(), code, "TypeScript")?;
    if !code.contains("'@playwright/test'") && !code.contains("\"@playwright/test\"") {
        return Err("import `test` and `expect` from '@playwright/test'".into());
    }
    if !calls(code, "test") {
        return Err("no Playwright test: call `test('…', async ({ page }) => { … })`".into());
    }
    if !code.contains("page.") {
        return Err(
            "the test never drives the browser: use the `page` fixture (`page.goto`, `page.getByRole`, …)".into()
        );
    }
    if !calls(code, "expect") {
        return Err("the test asserts nothing: use `expect(...)`".into());
    }
    Ok(())
}

/// A Selenium test in Python: pytest tests that import `selenium`, open a `webdriver` and assert.
pub(super) fn selenium(code: &str) -> Result<(), String> {
    python_tests(code)?;
    if !python_imports(code, "selenium") {
        return Err("import the Selenium bindings (`from selenium import webdriver`)".into());
    }
    if !code.contains("webdriver.") {
        return Err(
            "the test never opens a browser: create a `webdriver.Chrome(...)` or `webdriver.Firefox(...)`".into()
        );
    }
    Ok(())
}

/// The clients an integration test may reach a running service or its backing stores with.
const SERVICE_CLIENTS: [&str; 10] =
    ["requests", "httpx", "aiohttp", "urllib", "grpc", "psycopg", "psycopg2", "sqlalchemy", "redis", "testcontainers"];

/// Integration tests in Python: pytest tests that reach a real service through one of [`SERVICE_CLIENTS`], with the
/// service's address from the environment rather than written into the test.
pub(super) fn integration(code: &str) -> Result<(), String> {
    python_tests(code)?;
    if !SERVICE_CLIENTS.iter().any(|m| python_imports(code, m)) {
        return Err(format!(
            "an integration test talks to the running service: import one of {}",
            SERVICE_CLIENTS.join(", ")
        ));
    }
    if !(code.contains("os.environ") || code.contains("os.getenv") || python_imports(code, "testcontainers")) {
        return Err("read the service's address from the environment (`os.environ.get(\"BASE_URL\", …)`) or start it with testcontainers".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read_by_module_not_by_substring() {
        assert!(python_imports("import os, requests\n", "requests"));
        assert!(python_imports("from selenium.webdriver.common.by import By\n", "selenium"));
        assert!(!python_imports("import requests_mock\n", "requests"));
        assert!(!python_imports("# import requests\n", "requests"));
    }
}
