// The documentation holds together (issue 22): every relative link in README.md and docs/*.md
// names a file inside the repository (and a heading there, for an anchor); nothing points outside
// it; the man pages are man pages (every section, in order; `man --warnings` silent) that name
// every command and flag of the CLI and every flag of the agent, and whose example command lines
// the CLI parses.
#include <limits.h>
#include <stdlib.h>

#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/cli_args.h"
#include "client/command_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/subprocess.h"

namespace datagen::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? resolved : "";
}

// The repository's root: where the real README.md is (runfiles are links into the source tree).
std::string RepositoryRoot() {
  std::string readme = RealPath(Runfile("README.md"));
  return readme.substr(0, readme.rfind('/'));
}

std::vector<std::string> MarkdownFiles() {
  std::vector<std::string> files = {"README.md"};
  RunResult listed =
      RunProcess({"/bin/sh", "-c", "cd \"$1\" && ls docs/*.md", "-", RepositoryRoot()}, {});
  for (absl::string_view line : absl::StrSplit(listed.out, '\n', absl::SkipEmpty())) {
    files.emplace_back(line);
  }
  return files;
}

// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'.
std::string Anchor(absl::string_view heading) {
  std::string anchor;
  for (char c : absl::AsciiStrToLower(heading)) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      anchor += c;
    } else if (c == ' ') {
      anchor += '-';
    }
  }
  return anchor;
}

std::set<std::string> Anchors(const std::string& markdown) {
  std::set<std::string> anchors;
  for (absl::string_view line : absl::StrSplit(markdown, '\n')) {
    if (absl::StartsWith(line, "#")) {
      anchors.insert(Anchor(absl::StripLeadingAsciiWhitespace(
          absl::StripLeadingAsciiWhitespace(line.substr(line.find_first_not_of('#'))))));
    }
  }
  return anchors;
}

TEST(Docs, EveryRelativeLinkResolvesInsideTheRepository) {
  const std::string root = RepositoryRoot();
  ASSERT_FALSE(root.empty());
  const std::regex link(R"(\]\(([^)\s]+)\))");
  int checked = 0;
  for (const std::string& file : MarkdownFiles()) {
    const std::string text = ReadFile(root + "/" + file);
    ASSERT_FALSE(text.empty()) << file;
    for (const char* outside : {"shared/spec", "shared/seed"}) {
      EXPECT_FALSE(absl::StrContains(text, outside)) << file << " points outside the repository";
    }
    const std::string dir = (root + "/" + file).substr(0, (root + "/" + file).rfind('/'));
    for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
      std::string target = (*it)[1];
      if (absl::StartsWith(target, "http://") || absl::StartsWith(target, "https://") ||
          absl::StartsWith(target, "mailto:")) {
        continue;
      }
      std::string anchor;
      if (size_t hash = target.find('#'); hash != std::string::npos) {
        anchor = target.substr(hash + 1);
        target = target.substr(0, hash);
      }
      std::string resolved = target.empty() ? root + "/" + file : RealPath(dir + "/" + target);
      ++checked;
      EXPECT_FALSE(resolved.empty()) << file << ": (" << (*it)[1] << ") names nothing";
      if (resolved.empty()) continue;
      EXPECT_TRUE(absl::StartsWith(resolved, root + "/"))
          << file << ": (" << (*it)[1] << ") resolves outside the repository, to " << resolved;
      if (!anchor.empty() && absl::EndsWith(resolved, ".md")) {
        EXPECT_EQ(Anchors(ReadFile(resolved)).count(anchor), 1u)
            << file << ": (" << (*it)[1] << ") names no heading there";
      }
    }
  }
  EXPECT_GT(checked, 5) << "the links were not found at all";
}

// "Every documented command line is run by a test": each `datagen ...` command line in README and
// docs/ (in code blocks, and inline in backticks) is one the CLI parses, with its placeholders
// filled in. A flag the docs teach and the binary refuses fails here.
TEST(Docs, EveryDocumentedDatagenCommandLineParses) {
  const std::string root = RepositoryRoot();
  const std::regex inline_code("`(datagen (?:auth|completion|--)[^`]*)`");
  int checked = 0;
  for (const std::string& file : MarkdownFiles()) {
    const std::string text = ReadFile(root + "/" + file);
    std::vector<std::string> lines;
    bool in_block = false;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "```")) {
        in_block = !in_block;
        continue;
      }
      absl::string_view code = absl::StripLeadingAsciiWhitespace(line);
      absl::ConsumePrefix(&code, "$ ");
      if (in_block && absl::StartsWith(code, "datagen ")) lines.emplace_back(code);
    }
    for (std::sregex_iterator it(text.begin(), text.end(), inline_code), end; it != end; ++it) {
      lines.push_back(absl::StrReplaceAll(std::string((*it)[1]), {{"\n", " "}}));
    }
    for (const std::string& line : lines) {
      std::vector<std::string> args;
      for (absl::string_view word : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
        // A comment, a pipe, a redirection, the next command or a label in parentheses ends it.
        if (word == "|" || word == ">" || word == "&&" || word == ";" ||
            absl::StartsWith(word, "#") || absl::StartsWith(word, "(")) {
          break;
        }
        std::string arg(word);
        if (arg == "<slug>" || arg == "SLUG") arg = "test-org";
        args.push_back(arg);
      }
      args.erase(args.begin());  // "datagen"
      // A synopsis ("status [--verify | --watch]", "bash|zsh|fish") is not one command line.
      bool synopsis = false;
      for (const std::string& arg : args) {
        synopsis = synopsis || absl::StrContains(arg, "[") || absl::StrContains(arg, "|") ||
                   absl::StrContains(arg, "<") || absl::StrContains(arg, "...") ||
                   absl::StrContains(arg, "\u2026");
      }
      if (synopsis || args.empty()) continue;
      cli::ParseResult parsed = cli::ParseArgs(args);
      EXPECT_TRUE(parsed.ok) << file << ": `" << line << "`: " << parsed.error.message;
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
  std::printf("FIGURE docs.command_lines_parsed %d\n", checked);
}

// The page as text: roff's escaped hyphens and font changes taken out.
std::string Plain(const std::string& roff) {
  return absl::StrReplaceAll(roff, {{"\\-", "-"}, {"\\fB", ""}, {"\\fI", ""}, {"\\fR", ""}});
}

void ExpectAManPage(const std::string& path, const std::string& name) {
  const std::string page = ReadFile(path);
  ASSERT_FALSE(page.empty()) << path;
  EXPECT_THAT(page, HasSubstr(".TH " + absl::AsciiStrToUpper(name) + " 1 "));
  size_t at = 0;
  for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT", "FILES",
                              "EXIT STATUS", "EXAMPLES", "SEE ALSO"}) {
    size_t found = page.find(std::string("\n.SH ") + section + "\n", at);
    EXPECT_NE(found, std::string::npos) << path << ": no " << section << " after the one before";
    if (found != std::string::npos) at = found;
  }
  // man-db with groff, warnings on: a page that renders with none.
  RunResult man = RunProcess({"/usr/bin/man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", path},
                             {"LC_ALL=C.UTF-8", "MANPAGER=cat", "PATH=/usr/bin:/bin"});
  EXPECT_EQ(man.exit_code, 0) << man.err;
  EXPECT_THAT(man.err, IsEmpty()) << path;
  EXPECT_THAT(man.out, HasSubstr(name)) << path;
}

TEST(Docs, DatagenAuthIsAManPageOfEveryCommandAndFlag) {
  const std::string path = Runfile("tools/man/datagen-auth.1");
  ExpectAManPage(path, "datagen-auth");
  const std::string page = Plain(ReadFile(path));
  for (const cli::CommandSpec& command : cli::Commands()) {
    EXPECT_THAT(page, HasSubstr("datagen auth " + command.name)) << command.name;
    for (const auto* flags : {&cli::CommonFlags(), &command.flags}) {
      for (const cli::FlagSpec& flag : *flags) EXPECT_THAT(page, HasSubstr(flag.name));
    }
    for (const std::string& action : command.actions) EXPECT_THAT(page, HasSubstr(action));
  }
  for (const char* variable : {"DATAGEN_API_URL", "DATAGEN_AGENT_SOCKET", "DATAGEN_NO_AUTOSTART",
                               "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "BROWSER"}) {
    EXPECT_THAT(page, HasSubstr(variable));
  }
  for (const char* code : {"\n.B 0\n", "\n.B 1\n", "\n.B 2\n", "\n.B 4\n", "\n.B 130\n"}) {
    EXPECT_THAT(page, HasSubstr(code)) << "exit status " << code;
  }
  // Every `datagen ...` line of the examples is a command line the CLI takes.
  int examples = 0;
  for (absl::string_view line : absl::StrSplit(page.substr(page.find(".SH EXAMPLES")), '\n')) {
    if (!absl::StartsWith(line, "datagen ")) continue;
    std::vector<std::string> args = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // A pipe or a redirection ends the command line.
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "|" || args[i] == ">") args.resize(i);
    }
    args.erase(args.begin());
    cli::ParseResult parsed = cli::ParseArgs(args);
    EXPECT_TRUE(parsed.ok) << line << ": " << parsed.error.message;
    ++examples;
  }
  EXPECT_GE(examples, 4);
}

TEST(Docs, DatagenAgentIsAManPageOfEveryFlag) {
  const std::string path = Runfile("tools/man/datagen-agent.1");
  ExpectAManPage(path, "datagen-agent");
  const std::string page = Plain(ReadFile(path));
  RunResult help = RunProcess({Runfile("agent/datagen-agent"), "--help"}, {});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  int flags = 0;
  for (absl::string_view line : absl::StrSplit(help.out, '\n')) {
    if (!absl::StartsWith(line, "  --")) continue;
    std::string flag(absl::StripAsciiWhitespace(line));
    EXPECT_THAT(flag, Not(HasSubstr("_"))) << "--help shows flags as the docs do, with dashes";
    EXPECT_THAT(page, HasSubstr(flag)) << "datagen-agent(1) does not name " << flag;
    ++flags;
  }
  EXPECT_GE(flags, 9);
}

}  // namespace
}  // namespace datagen::testing
