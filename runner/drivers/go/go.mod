module plugspec/driver

go 1.19

require fixtures v0.0.0

replace fixtures => ../../../conformance/kits/go
