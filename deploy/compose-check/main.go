// Command compose-check validates deploy/compose.yaml without a Docker engine.
//
// It loads the file with github.com/compose-spec/compose-go/v2, the loader Docker Compose itself
// uses: schema validation, interpolation from an env file (strict: a variable that is not set is an
// error, where Docker Compose would only warn and use an empty string), normalisation, path
// resolution and the consistency checks (every depends_on, network and named volume exists). It then
// checks what Compose itself only finds out at `docker compose up`:
//
//   - a `depends_on` with `condition: service_healthy` points at a service that has a healthcheck
//     in the file (this project's rule: healthchecks are explicit, not inherited from images);
//   - every healthcheck has a test and is not disabled;
//   - every bind-mount source exists, unless it is declared `bind.create_host_path: false` (then it is
//     reported as a prerequisite: Docker refuses to start without it instead of creating an empty
//     directory where a file was meant);
//   - every bind-mounted .yml, .yaml or .json file (also inside bind-mounted directories) parses;
//   - no two services publish the same host port.
//
// Usage (from the repository root; `go -C` runs the command in that directory):
//
//	go -C deploy/compose-check run .                        # checks ../compose.yaml with ../.env.example
//	go -C deploy/compose-check run . --env-file ../.env     # with your own settings
//	go -C deploy/compose-check run . --json                 # the resolved model, as JSON, on stdout
//	go -C deploy/compose-check run . --profile scale        # with the services of a profile
//
// Exit status: 0 valid, 1 invalid (one line per problem on stderr), 2 usage error.
// The --json output contains the resolved environment, secrets included (like `docker compose config`).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
	"go.yaml.in/yaml/v4"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// warningHook turns compose-go's logrus warnings (e.g. "The "X" variable is not set") into errors.
type warningHook struct {
	mu       sync.Mutex
	messages []string
}

func (h *warningHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h *warningHook) Fire(e *logrus.Entry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.messages = append(h.messages, e.Message)
	return nil
}

// report is the --json output.
type report struct {
	OK       bool            `json:"ok"`
	File     string          `json:"file"`
	EnvFiles []string        `json:"envFiles"`
	Name     string          `json:"name"`
	Services []string        `json:"services"`
	Notes    []string        `json:"notes"`
	Project  json.RawMessage `json:"project"`
	// Mounts holds every bind-mounted YAML/JSON file, parsed, keyed by its path relative to the
	// project directory (e.g. "traefik/traefik.yml").
	Mounts map[string]any `json:"mounts"`

	project    *types.Project
	projectDir string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("compose-check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	file := flags.String("file", "../compose.yaml", "the Compose file")
	var envFiles stringList
	flags.Var(&envFiles, "env-file", "env file for interpolation, repeatable (default ../.env.example)")
	osEnv := flags.Bool("os-env", false, "also use this process's environment (it wins over env files, as in Docker Compose)")
	var profiles stringList
	flags.Var(&profiles, "profile", "enable a Compose profile, repeatable (like docker compose --profile)")
	jsonOut := flags.Bool("json", false, "print the resolved model and the parsed mounted files as JSON")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "compose-check: unexpected argument %q\n", flags.Arg(0))
		return 2
	}
	if len(envFiles) == 0 {
		envFiles = stringList{"../.env.example"}
	}

	rep, problems := check(*file, envFiles, profiles, *osEnv)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "compose-check: %s: %s\n", *file, p)
		}
		fmt.Fprintf(stderr, "compose-check: %s is NOT valid (%d problem(s))\n", *file, len(problems))
		return 1
	}
	if *jsonOut {
		out, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "compose-check: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, string(out))
		return 0
	}
	fmt.Fprintf(stdout, "compose-check: %s is valid: project %q, env files %s\n", *file, rep.Name, strings.Join(rep.EnvFiles, ", "))
	fmt.Fprintln(stdout, "services:")
	for _, name := range rep.Services {
		fmt.Fprintf(stdout, "  %s\n", describe(name, rep.project.Services[name], rep.projectDir))
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	return 0
}

func describe(name string, s types.ServiceConfig, projectDir string) string {
	what := "image " + s.Image
	if s.Build != nil {
		what = "build " + relative(projectDir, filepath.Join(s.Build.Context, s.Build.Dockerfile))
	}
	parts := []string{fmt.Sprintf("%-9s %s", name, what)}
	if s.HealthCheck != nil && !s.HealthCheck.Disable {
		parts = append(parts, "healthcheck")
	}
	deps := make([]string, 0, len(s.DependsOn))
	for _, name := range sortedKeys(s.DependsOn) {
		deps = append(deps, name+" ("+s.DependsOn[name].Condition+")")
	}
	if len(deps) > 0 {
		parts = append(parts, "depends on "+strings.Join(deps, ", "))
	}
	return strings.Join(parts, "; ")
}

func check(file string, envFiles, profiles []string, osEnv bool) (*report, []string) {
	hook := &warningHook{}
	logrus.AddHook(hook)
	logrus.SetOutput(io.Discard) // reported through the hook, as errors

	absFile, err := filepath.Abs(file)
	if err != nil {
		return nil, []string{err.Error()}
	}
	projectDir := filepath.Dir(absFile)
	optionFns := []cli.ProjectOptionsFn{cli.WithWorkingDirectory(projectDir)}
	if osEnv {
		optionFns = append(optionFns, cli.WithOsEnv)
	}
	optionFns = append(optionFns,
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
		cli.WithNormalization(true),
		cli.WithInterpolation(true),
		// --profile flags, else COMPOSE_PROFILES from the env files (as Docker Compose does).
		cli.WithDefaultProfiles(profiles...),
	)
	options, err := cli.NewProjectOptions([]string{absFile}, optionFns...)
	if err != nil {
		return nil, []string{err.Error()}
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		// compose-go joins several problems with newlines: one line each.
		return nil, strings.Split(strings.TrimSpace(err.Error()), "\n")
	}

	var problems []string
	for _, m := range hook.messages {
		problems = append(problems, "interpolation: "+m+" (set it in the env file)")
	}
	rep := &report{
		File:     file,
		EnvFiles: envFiles,
		Name:     project.Name,
		Services: project.ServiceNames(),
		Notes:    []string{},
		Mounts:   map[string]any{},

		project:    project,
		projectDir: projectDir,
	}
	sort.Strings(rep.Services)

	published := map[string]string{}
	for _, name := range rep.Services {
		s := project.Services[name]
		if s.Image == "" && s.Build == nil {
			problems = append(problems, fmt.Sprintf("service %s: neither image nor build", name))
		}
		if s.Build != nil {
			dockerfile := s.Build.Dockerfile
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(s.Build.Context, dockerfile)
			}
			if _, err := os.Stat(dockerfile); err != nil {
				problems = append(problems, fmt.Sprintf("service %s: build: %v", name, err))
			}
		}
		if hc := s.HealthCheck; hc != nil {
			if hc.Disable || len(hc.Test) == 0 || hc.Test[0] == "NONE" {
				problems = append(problems, fmt.Sprintf("service %s: healthcheck is disabled or has no test", name))
			}
		}
		for _, dep := range sortedKeys(s.DependsOn) {
			d := s.DependsOn[dep]
			if d.Condition != types.ServiceConditionHealthy {
				continue
			}
			target, ok := project.Services[dep]
			if ok && (target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0) {
				problems = append(problems, fmt.Sprintf(
					"service %s: depends_on %s with condition service_healthy, but %s has no healthcheck in this file",
					name, dep, dep))
			}
		}
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			problems = append(problems, checkBind(name, v, projectDir, rep)...)
		}
		for _, p := range s.Ports {
			if p.Published == "" {
				continue
			}
			key := fmt.Sprintf("%s:%s/%s", p.HostIP, p.Published, p.Protocol)
			if other, taken := published[key]; taken {
				problems = append(problems, fmt.Sprintf("services %s and %s both publish %s", other, name, key))
			}
			published[key] = name
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}

	raw, err := project.MarshalJSON()
	if err != nil {
		return nil, []string{err.Error()}
	}
	rep.Project = raw
	rep.OK = true
	return rep, nil
}

// checkBind checks one bind mount and parses the YAML/JSON files it brings into the container.
func checkBind(service string, v types.ServiceVolumeConfig, projectDir string, rep *report) []string {
	rel := relative(projectDir, v.Source)
	info, err := os.Stat(v.Source)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && v.Bind != nil && !bool(v.Bind.CreateHostPath) {
			rep.Notes = append(rep.Notes, fmt.Sprintf(
				"service %s: bind source %s does not exist yet; it must before `docker compose up` (create_host_path: false)",
				service, rel))
			return nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return []string{fmt.Sprintf(
				"service %s: bind source %s does not exist (Docker would create an empty directory there)", service, rel)}
		}
		return []string{fmt.Sprintf("service %s: bind source %s: %v", service, rel, err)}
	}
	var problems []string
	parse := func(path string) {
		ext := strings.ToLower(filepath.Ext(path))
		if ext != ".yml" && ext != ".yaml" && ext != ".json" {
			return
		}
		data, err := os.ReadFile(path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("service %s: %s: %v", service, relative(projectDir, path), err))
			return
		}
		var doc any
		if ext == ".json" {
			err = json.Unmarshal(data, &doc)
		} else {
			err = yaml.Unmarshal(data, &doc)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("service %s: %s does not parse: %v", service, relative(projectDir, path), err))
			return
		}
		rep.Mounts[relative(projectDir, path)] = doc
	}
	if !info.IsDir() {
		parse(v.Source)
		return problems
	}
	_ = filepath.WalkDir(v.Source, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			parse(path)
		}
		return nil
	})
	return problems
}

func relative(base, path string) string {
	if r, err := filepath.Rel(base, path); err == nil {
		return filepath.ToSlash(r)
	}
	return path
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
