package gateway

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// proxySet holds the peers whose X-Forwarded-For is believed.
type proxySet struct{ prefixes []netip.Prefix }

func parseProxies(specs []string) (*proxySet, error) {
	ps := &proxySet{}
	for _, s := range specs {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("gateway: trusted proxy %q: %w", s, err)
			}
			ps.prefixes = append(ps.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("gateway: trusted proxy %q: %w", s, err)
		}
		a = a.Unmap()
		ps.prefixes = append(ps.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return ps, nil
}

func (ps *proxySet) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the socket peer, unless the peer is a trusted proxy: then the
// rightmost X-Forwarded-For address that is not itself a trusted proxy.
// Walking from the right means a client cannot choose its own address by
// sending a forged header through the proxy.
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return "unknown"
	}
	peer = peer.Unmap()
	if len(s.proxies.prefixes) == 0 || !s.proxies.trusted(peer) {
		return peer.String()
	}
	xff := string(c.Request().Header.Peek(fiber.HeaderXForwardedFor))
	hops := strings.Split(xff, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(h)
		if err != nil {
			break // garbage: stop believing the chain here
		}
		a = a.Unmap()
		if !s.proxies.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}
