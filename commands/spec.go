package commands

// Flag is a command flag. The flags are Redis's (server.h), with the same
// meaning; they drive the checks in the executor's gate (execute) so that no
// handler repeats them.
//
//	FlagWrite           may modify the dataset; propagated to the AOF.
//	FlagReadonly        reads data only.
//	FlagDenyOOM         may grow memory: refused with -OOM over maxmemory.
//	FlagModule          implemented by a module (never set in Spinel).
//	FlagAdmin           administrative; @admin and @dangerous in ACLs.
//	FlagPubSub          pub/sub related.
//	FlagNoScript        not allowed inside scripts.
//	FlagBlocking        may block the client.
//	FlagLoading         allowed while the dataset is loading.
//	FlagStale           allowed while a replica has stale data.
//	FlagSkipMonitor     not shown in MONITOR.
//	FlagSkipSlowlog     not logged in SLOWLOG.
//	FlagAsking          cluster ASKING related.
//	FlagFast            O(1) or O(log N); @fast, otherwise @slow.
//	FlagNoAuth          allowed before authentication.
//	FlagMayReplicate    may propagate though not a write (hidden in COMMAND).
//	FlagNoMandatoryKeys keys are optional.
//	FlagProtected       refused unless enable-*-command allows it (hidden).
//	FlagNoAsyncLoading  refused during async loading.
//	FlagNoMulti         not allowed inside MULTI.
//	FlagMovableKeys     key positions depend on the arguments.
//	FlagAllowBusy       allowed while a script is running too long.
type Flag uint64

// Command flags, in the order COMMAND INFO lists them.
const (
	FlagWrite Flag = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagModule
	FlagAdmin
	FlagPubSub
	FlagNoScript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagAsking
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagNoMandatoryKeys
	FlagProtected
	FlagNoAsyncLoading
	FlagNoMulti
	FlagMovableKeys
	FlagAllowBusy
)

// Handler runs one command. args[0] is the command name (for a subcommand,
// args[1] is the subcommand name). args alias the client's input buffer and
// are valid only during the call: a handler that keeps bytes must copy them.
// The reply is appended to the client's output with its add* methods.
type Handler func(c *Client, args [][]byte)

// Spec is one command or subcommand: its declarative data (generated from
// real Redis's COMMAND INFO and COMMAND DOCS, see commands.json) plus the
// handler that implements it and its runtime statistics.
type Spec struct {
	// Name is the lower-case name; FullName is "parent|sub" for subcommands.
	Name, FullName string
	// Arity is the number of arguments including the name; negative means
	// "at least -Arity".
	Arity int
	Flags Flag
	// FirstKey, LastKey, Step are the legacy key positions (COMMAND INFO).
	FirstKey, LastKey, Step int
	// ACLCategories are the categories without '@', as COMMAND INFO lists them.
	ACLCategories []string
	// KeySpecs are Redis 7 key specifications.
	KeySpecs []KeySpec
	// Tips are the command tips (e.g. "nondeterministic_output").
	Tips []string
	// Doc is the COMMAND DOCS data.
	Doc Doc
	// Subcommands of a container command, in COMMAND INFO order.
	Subcommands []*Spec
	// Parent is the container of a subcommand.
	Parent *Spec

	// Handler implements the command; nil for container commands, whose
	// subcommand is looked up instead.
	Handler Handler

	// Runtime statistics (INFO commandstats, latencystats).
	Calls, Usec, RejectedCalls, FailedCalls int64
	hist                                    *latencyHistogram

	subByName map[string]*Spec
}

// KeySpec is a Redis 7 key specification.
type KeySpec struct {
	Notes string
	Flags []string // e.g. "RW", "ACCESS", "UPDATE"
	// BeginSearch: Type is "index" (Index) or "keyword" (Keyword, StartFrom)
	// or "unknown".
	BeginSearch struct {
		Type      string
		Index     int
		Keyword   string
		StartFrom int
	}
	// FindKeys: Type is "range" (LastKey, KeyStep, Limit) or "keynum"
	// (KeyNumIdx, FirstKey, KeyStep) or "unknown".
	FindKeys struct {
		Type      string
		LastKey   int
		KeyStep   int
		Limit     int
		KeyNumIdx int
		FirstKey  int
	}
}

// Doc is the data COMMAND DOCS returns for a command.
type Doc struct {
	Summary         string
	Since           string
	Group           string
	Complexity      string
	DocFlags        []string // "deprecated", "syscmd"
	DeprecatedSince string
	ReplacedBy      string
	History         [][2]string // version, description
	Arguments       []Arg
}

// Arg is one argument in COMMAND DOCS.
type Arg struct {
	Name         string
	Type         string // string, integer, double, key, pattern, unix-time, pure-token, oneof, block
	DisplayText  string
	KeySpecIndex int // -1 when absent
	Token        string
	Summary      string
	Since        string
	Flags        []string // optional, multiple, multiple_token
	Deprecated   string
	Value        string
	Arguments    []Arg // for oneof and block
}
