package compile

import (
	"testing"

	"github.com/ktrace/ktrace/uprobe"
)

func TestUSDTConst(t *testing.T) {
	for _, tt := range []struct {
		spec string
		want int64
	}{
		{"1@$-56", 200}, {"-1@$-56", -56}, {"-1@$200", -56}, {"2@$-1", 0xffff}, {"-2@$-7", -7},
		{"4@$-1", 0xffffffff}, {"-4@$42", 42}, {"8@$-1", -1}, {"-8@$0x7fffffffffffffff", 1<<63 - 1},
	} {
		a, err := uprobe.ParseArg(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := usdtConst(a); got != tt.want {
			t.Errorf("%s = %d, want %d", tt.spec, got, tt.want)
		}
	}
}
