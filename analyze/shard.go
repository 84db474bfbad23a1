package analyze

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/tlsinspect/tlsinspect/capture"
	"github.com/tlsinspect/tlsinspect/packet"
	"github.com/tlsinspect/tlsinspect/tcpstream"
	"github.com/tlsinspect/tlsinspect/tlsconn"
)

// Sharding. The calling goroutine reads packets and hands each to the
// worker its flow hashes to, in rounds of a few thousand packets; every
// worker gets every round (perhaps empty), and a merging goroutine takes
// round after round from all of them and reports what they found in input
// order (orderKey). Decoding happens in the workers, except for the few
// packets packet.FlowHash does not read (IP fragments, tunnels…), which the
// reader decodes so that fragments are put together before their flow is
// known.
const (
	roundPackets = 1024    // per worker
	roundBytes   = 1 << 20 // per worker
	roundsQueued = 4       // per worker, between reader, worker and merger
	// roundDelay is the longest a packet waits for its round to be sent
	// (looked at after each read of the source, whatever the filter kept
	// of it): a live link, or a pipe, that is never quiet for long enough
	// to flush still has its handshakes reported promptly.
	roundDelay = 100 * time.Millisecond
	chunkSize  = 256 << 10
)

type itemKind uint8

const (
	itemPacket   itemKind = iota // p, decoded by the worker with the layers (Header.Read did not read it)
	itemHeader                   // p, its header read by the reader (hdr)
	itemSegment                  // seg, decoded by the reader
	itemDatagram                 // dg, decoded by the reader
	itemFlush                    // idle connections are flushed at p.Timestamp
	itemEnd                      // the end of the input
)

type item struct {
	kind itemKind
	n    uint64 // packet number
	p    capture.Packet
	hdr  packet.Header
	seg  *packet.Segment  // itemSegment
	dg   *packet.Datagram // itemDatagram
}

// batch is one worker's share of a round. The packets' bytes are copied
// into chunks that are kept for the next round the batch is used for.
type batch struct {
	items  []item
	chunks [][]byte
	cur    int // chunks[cur] is being filled
	bytes  int
}

func (b *batch) reset() {
	clear(b.items) // drop references to what the items pointed to
	b.items = b.items[:0]
	for i := range b.chunks {
		b.chunks[i] = b.chunks[i][:0]
	}
	b.cur, b.bytes = 0, 0
}

// copyBytes returns a copy of p that lives as long as the round.
func (b *batch) copyBytes(p []byte) []byte {
	b.bytes += len(p)
	if len(p) > chunkSize/4 {
		return append([]byte(nil), p...)
	}
	for {
		if b.cur == len(b.chunks) {
			b.chunks = append(b.chunks, make([]byte, 0, chunkSize))
		}
		c := b.chunks[b.cur]
		if len(c)+len(p) <= cap(c) {
			b.chunks[b.cur] = append(c, p...)
			return b.chunks[b.cur][len(c) : len(c)+len(p) : len(c)+len(p)]
		}
		b.cur++
	}
}

func runSharded(ctx context.Context, src Source, cfg Config, emit func(*tlsconn.Summary)) (Counts, error) {
	nw := cfg.Workers
	if cfg.Panic != nil {
		var mu sync.Mutex
		report := cfg.Panic
		cfg.Panic = func(connection uint64, value any, stack []byte) {
			mu.Lock()
			defer mu.Unlock()
			report(connection, value, stack)
		}
	}
	maxFlows := cfg.MaxFlows
	if maxFlows <= 0 {
		maxFlows = tcpstream.DefaultMaxConnections
	}
	maxFlows = (maxFlows + nw - 1) / nw

	workers := make([]*worker, nw)
	in := make([]chan *batch, nw)
	outs := make([]chan []emission, nw)
	readerOut := make(chan []emission, roundsQueued)
	free := make(chan *batch, nw*(roundsQueued+2))
	var wg sync.WaitGroup
	for i := range nw {
		w := newWorker(&cfg, maxFlows)
		workers[i] = w
		in[i] = make(chan *batch, roundsQueued)
		outs[i] = make(chan []emission, roundsQueued)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range in[i] {
				w.round(b)
				outs[i] <- w.take()
				b.reset()
				select {
				case free <- b:
				default:
				}
			}
		}()
	}
	merged := make(chan struct{})
	var delivered atomic.Uint64 // rounds the merger is done with
	go func() {
		defer close(merged)
		var all []emission
		for r := range readerOut {
			all = append(all[:0], r...)
			for i := range nw {
				all = append(all, <-outs[i]...)
			}
			sortEmissions(all)
			for i := range all {
				all[i].deliver(&cfg, emit)
				all[i] = emission{}
			}
			delivered.Add(1)
		}
	}()

	// A file source that can keep its packets' bytes is read into
	// buffers that are reused once the rounds reading them are done:
	// packets go to the workers without a copy.
	rounds := uint64(0) // rounds sent
	buffers := keptBuffers{delivered: &delivered}
	keeping := false
	if k, ok := src.(interface{ KeepData(func(int) []byte) bool }); ok {
		keeping = k.KeepData(func(n int) []byte { return buffers.get(n, rounds) })
	}

	var c Counts
	dec := packet.NewDecoder() // for what packet.FlowHash does not read
	newBatch := func() *batch {
		select {
		case b := <-free:
			return b
		default:
			return &batch{}
		}
	}
	cur := make([]*batch, nw)
	for i := range cur {
		cur[i] = newBatch()
	}
	var readerEmissions []emission
	var hdr packet.Header // the reader's, for each packet in turn
	queued := 0
	full := false
	sent := time.Now()
	send := func() {
		readerOut <- readerEmissions
		readerEmissions = nil
		for i := range nw {
			in[i] <- cur[i]
			cur[i] = newBatch()
		}
		queued, full = 0, false
		rounds++
		sent = time.Now() // after the sends, which wait while the workers are behind
	}
	// own makes data live as long as the round of batch b.
	own := func(b *batch, data []byte) []byte {
		if keeping {
			b.bytes += len(data) // kept by the source until the round is done
			return data
		}
		return b.copyBytes(data)
	}
	toAll := func(it item) {
		for _, b := range cur {
			b.items = append(b.items, it)
		}
	}
	// slot appends an empty item to the batch of flow hash h, and returns
	// it with data made to live as long as the round (own). The item is
	// filled where it lies: it is large, and copying a composite literal
	// into the batch cost more than the rest of the reader's work.
	slot := func(h uint64, data []byte) (*item, []byte) {
		b := cur[h%uint64(nw)]
		if data != nil {
			data = own(b, data)
		}
		b.items = append(b.items, item{})
		if b.bytes >= roundBytes {
			full = true
		}
		return &b.items[len(b.items)-1], data
	}
	add := func(h uint64, x item) {
		it, _ := slot(h, nil)
		*it = x
	}
	// held reports whether the round being filled holds anything: packets
	// (and the reader's reports, which come with them), or flushes, which
	// go to every batch.
	held := func() bool { return queued > 0 || len(cur[0].items) > 0 }
	// A pipe with nothing more for now (capture.FileSource.OnStall): what
	// was read is reported without waiting for more (the connections it
	// ended, say), as a quiet live link's is, but idle connections are not
	// looked for: the wall clock says nothing of a file's packet times.
	if st, ok := src.(interface{ OnStall(func()) }); ok {
		st.OnStall(func() {
			if held() {
				send()
			}
		})
		defer st.OnStall(nil)
	}

	readErr := readLoop(ctx, src, &cfg, &c, func(n uint64, at time.Time, quiet bool) {
		toAll(item{kind: itemFlush, n: n, p: capture.Packet{Timestamp: at}})
		if quiet {
			send() // what was read is reported without waiting for more
		}
	}, func(n uint64, p *capture.Packet) {
		// The reader reads the header of most packets (it is where the
		// flow is, and the worker then need not touch the packet unless
		// its connection wants the payload); FlowHash the flow of most
		// others; the rest it decodes.
		if hdr.Read(p.LinkType, p.Data) {
			it, data := slot(hdr.Hash(), p.Data)
			it.kind, it.n, it.p, it.hdr = itemHeader, n, *p, hdr
			it.p.Data = data // the worker's copy, or kept
		} else if h, ok := packet.FlowHash(p.LinkType, p.Data); ok {
			it, data := slot(h, p.Data)
			it.kind, it.n, it.p = itemPacket, n, *p
			it.p.Data = data
		} else {
			readerEmissions = readerDecode(dec, &c, n, *p, readerEmissions, add)
		}
		queued++
		if full || queued >= roundPackets*nw {
			send()
		}
	}, func() {
		if held() && time.Since(sent) >= roundDelay {
			send()
		}
	})
	toAll(item{kind: itemEnd})
	send()
	close(readerOut)
	for i := range nw {
		close(in[i])
	}
	<-merged
	wg.Wait()
	c.FragmentBytesDropped = dec.Stats().FragmentBytesDropped + dec.PendingFragmentBytes()
	for _, w := range workers {
		w.counts(&c)
	}
	return c, readErr
}

// keptBuffers are the buffers a FileSource reads into with KeepData. A
// buffer is reused once every round that has packets in it is delivered.
type keptBuffers struct {
	delivered *atomic.Uint64
	free      [][]byte
	used      []keptBuffer // oldest first; the last one is being read into
}

type keptBuffer struct {
	b    []byte
	last uint64 // the round of its last packet
}

// get returns a buffer of at least n bytes; round is the round being
// filled, the last to have packets in the buffer read into until now.
func (k *keptBuffers) get(n int, round uint64) []byte {
	if len(k.used) > 0 {
		k.used[len(k.used)-1].last = round
	}
	done := k.delivered.Load()
	for len(k.used) > 0 && k.used[0].last < done {
		k.free = append(k.free, k.used[0].b)
		k.used = slices.Delete(k.used, 0, 1)
	}
	var b []byte
	for i, f := range k.free {
		if cap(f) >= n {
			b = f
			k.free = slices.Delete(k.free, i, i+1)
			break
		}
	}
	if b == nil {
		b = make([]byte, n)
	}
	k.used = append(k.used, keptBuffer{b: b, last: math.MaxUint64})
	return b
}

// readerDecode decodes packet n, one that neither Header.Read nor
// packet.FlowHash reads, and gives its segment or datagram (copied) to add
// with its flow hash.
func readerDecode(dec *packet.Decoder, c *Counts, n uint64, p capture.Packet, es []emission, add func(uint64, item)) []emission {
	seg, ok, err := dec.DecodeLayers(p)
	if !countDecode(c, p, err) {
		return append(es, emission{key: orderKey(n, false), err: err})
	}
	if ok {
		tcp := *seg.TCP
		// Only the header fields and the payload are read downstream; the
		// rest points into the decoder's memory.
		tcp.Contents, tcp.Options, tcp.Padding = nil, nil, nil
		tcp.Payload = append([]byte(nil), tcp.Payload...)
		seg.TCP = &tcp
		add(packet.EndpointsHash(layers.IPProtocolTCP, seg.Src, seg.Dst, uint16(tcp.SrcPort), uint16(tcp.DstPort)), item{kind: itemSegment, n: n, seg: &seg})
		return es
	}
	if dg, ok := dec.Datagram(); ok {
		dg.Payload = append([]byte(nil), dg.Payload...)
		add(packet.EndpointsHash(layers.IPProtocolUDP, dg.Src, dg.Dst, dg.SrcPort, dg.DstPort), item{kind: itemDatagram, n: n, dg: &dg})
	}
	return es
}

// round processes one batch.
func (w *worker) round(b *batch) {
	for i := range b.items {
		it := &b.items[i]
		switch it.kind {
		case itemPacket:
			w.layers(it.n, &it.p)
		case itemHeader:
			w.header(it.n, &it.p, &it.hdr)
		case itemSegment:
			w.segment(it.n, it.seg)
		case itemDatagram:
			w.datagram(it.n, *it.dg)
		case itemFlush:
			w.flush(it.n, it.p.Timestamp)
		case itemEnd:
			w.end()
		}
	}
}
