// Command tlsload makes many short TLS connections on loopback, as fast as
// it can or at a set rate, to measure live capture (`tlsinspect -i lo`)
// under load. It runs both ends: a crypto/tls server on 127.0.0.1 and
// -workers clients, each connection a full handshake, one byte each way
// and a close. It prints the handshakes completed and the rate.
//
//	tlsload -port 44999 -duration 10s -workers 8 [-tls12] [-rate 2000]
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlsinspect/tlsinspect/internal/testpki"
)

func main() {
	port := flag.Int("port", 44999, "loopback port of the server")
	duration := flag.Duration("duration", 10*time.Second, "how long to make connections")
	workers := flag.Int("workers", 8, "concurrent clients")
	tls12 := flag.Bool("tls12", false, "TLS 1.2 instead of 1.3")
	rate := flag.Int("rate", 0, "handshakes per second across all workers (0: as fast as possible)")
	flag.Parse()

	dir, err := os.MkdirTemp("", "tlsload")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	pki, err := testpki.New(dir, net.ParseIP("127.0.0.1"))
	if err != nil {
		log.Fatal(err)
	}
	scfg := pki.ServerConfig(false)
	ccfg := pki.ClientConfig(false)
	ccfg.ClientSessionCache = nil // every connection a full handshake
	if *tls12 {
		ccfg.MaxVersion = tls.VersionTLS12
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := tls.Server(c, scfg)
				b := make([]byte, 1)
				if _, err := io.ReadFull(tc, b); err == nil {
					tc.Write(b)
				}
			}()
		}
	}()

	var done, failed atomic.Int64
	var tick <-chan time.Time
	if *rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(*rate))
		defer t.Stop()
		tick = t.C
	}
	stop := time.Now().Add(*duration)
	var wg sync.WaitGroup
	start := time.Now()
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := []byte{'x'}
			for time.Now().Before(stop) {
				if tick != nil {
					<-tick
				}
				c, err := tls.Dial("tcp", ln.Addr().String(), ccfg)
				if err != nil {
					failed.Add(1)
					continue
				}
				if _, err = c.Write(b); err == nil {
					_, err = io.ReadFull(c, b)
				}
				c.Close()
				if err != nil {
					failed.Add(1)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	ln.Close()
	fmt.Printf("%d handshakes in %.1f s: %.0f handshakes/s (%d failed)\n", done.Load(), el.Seconds(), float64(done.Load())/el.Seconds(), failed.Load())
}
