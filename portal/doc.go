// Package portal owns the workflows between people on the platform: agencies
// publishing and keeping up their open lists (entries, imports, file
// versions), the opening review before anything goes public, and later
// applications, grants, keys, objections and requests. It speaks only the
// datasets interfaces; which database or blob store sits behind them is the
// command's business.
package portal
