mod app;
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse_args();
    match app::run(cli) {
        Ok(code) => code,
        Err(err) if app::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            app::report_error(&err);
            ExitCode::from(app::exit_code(&err))
        }
    }
}
