//! A new user's first hour (issue 25): names that are found, logs that can be read, help that
//! says what each command acts on, and errors that name their way out.

use agents_test_support::TestEnv;

/// Neither an escape character nor its escaped spelling, as `-v` printed them to a pipe.
fn assert_no_escapes(text: &str) {
    assert!(!text.contains('\u{1b}'), "an escape character reached a pipe:\n{text}");
    assert!(!text.contains("\\u{1b}"), "an escaped escape sequence was printed:\n{text}");
}

#[test]
fn verbose_logs_in_a_pipe_have_no_colour_codes_even_without_no_color() {
    let env = TestEnv::new();
    env.registry("team");
    env.remove_env("NO_COLOR");
    // Installing fetches the team's registry, which logs at debug level.
    let run = env.run(["-vv", "install", "code-reviewer"]).success();
    assert!(run.stderr().contains("DEBUG"), "-vv logged nothing:\n{}", run.stderr());
    assert_no_escapes(&run.stderr());

    env.set_env("AGENTS_LOG", "debug");
    let run = env.run(["install", "test-writer"]).success();
    assert!(run.stderr().contains("DEBUG"), "AGENTS_LOG=debug logged nothing:\n{}", run.stderr());
    assert_no_escapes(&run.stderr());
}
