package datasets

import (
	"errors"
	"fmt"
)

// Error codes. Every error that crosses a package boundary carries one of
// these; the gateway maps them to HTTP statuses in exactly one place.
const (
	ENOTFOUND     = "ENOTFOUND"     // the thing does not exist (or must not be seen)
	EINVALID      = "EINVALID"      // the input is wrong; Message says what
	EUNAUTHORIZED = "EUNAUTHORIZED" // no or unknown credentials
	EFORBIDDEN    = "EFORBIDDEN"    // credentials known, action not allowed
	ECONFLICT     = "ECONFLICT"     // a unique name is taken, or a state forbids the change
	ETOOLARGE     = "ETOOLARGE"     // a body or file passes a configured limit
	ERATELIMIT    = "ERATELIMIT"    // a rate limit or quota is spent
	EUNAVAILABLE  = "EUNAVAILABLE"  // a backing service cannot be reached
	EINTERNAL     = "EINTERNAL"     // a bug or an unexpected failure; details are logged, never sent
)

// Problem is one located fault inside a larger input: a row of an open
// list, a cell of a CSV file, a field of a request.
type Problem struct {
	Row     int    `json:"row,omitempty"`    // 1-based data row (header excluded) where known
	Line    int    `json:"line,omitempty"`   // 1-based physical line in the file where known
	Column  int    `json:"column,omitempty"` // 1-based column where known
	Field   string `json:"field,omitempty"`  // field or column name
	Message string `json:"message"`
}

func (p Problem) String() string {
	s := ""
	if p.Row > 0 {
		s += fmt.Sprintf("row %d ", p.Row)
	}
	if p.Line > 0 {
		s += fmt.Sprintf("line %d ", p.Line)
	}
	if p.Column > 0 {
		s += fmt.Sprintf("column %d ", p.Column)
	}
	if p.Field != "" {
		s += fmt.Sprintf("field %q ", p.Field)
	}
	if s != "" {
		s = s[:len(s)-1] + ": "
	}
	return s + p.Message
}

// Error is the one error type of Kaifang. Message is safe to show to the
// caller; Err, when set, is the underlying cause and is only logged.
type Error struct {
	Code     string
	Message  string
	Problems []Problem // located faults, for bulk inputs
	Err      error     // cause, never sent to clients
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Code + ": " + e.Err.Error()
	}
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted, client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with code and message whose cause is err.
func Wrap(err error, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the Message of the
// first *Error in the chain, or a generic text for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

// ErrorProblems returns the located problems of err, if any.
func ErrorProblems(err error) []Problem {
	var e *Error
	if errors.As(err, &e) {
		return e.Problems
	}
	return nil
}

// IsCode reports whether err carries code.
func IsCode(err error, code string) bool { return err != nil && ErrorCode(err) == code }
