# Arty A7-35 (xc7a35ticsg324-1L): pins of the lut2rtl UART board top (lut2rtl synth --top uart --board arty).
# Pinout: Digilent Arty-A7-35-Master.xdc (100 MHz oscillator; FT2232HQ UART).
set_property -dict { PACKAGE_PIN E3  IOSTANDARD LVCMOS33 } [get_ports { clk }]; # gclk[100]
create_clock -add -name sys_clk_pin -period 10.00 -waveform {0 5} [get_ports { clk }];
# tx = board net uart_rxd_out (FPGA to host); rx = board net uart_txd_in (host to FPGA)
set_property -dict { PACKAGE_PIN D10 IOSTANDARD LVCMOS33 } [get_ports { tx }];
set_property -dict { PACKAGE_PIN A9  IOSTANDARD LVCMOS33 } [get_ports { rx }];
