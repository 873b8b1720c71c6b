build/common/integ.o: common/integ.c common/integ.h common/config.h \
 common/util.h
common/integ.h:
common/config.h:
common/util.h:
